# Python's smtplib as a benchmark peer: connect, send N copies of the message
# in FILE over one connection, QUIT, and print the same result line as the
# Go children. Usage: client.py HOST PORT N FILE
import json, smtplib, sys, time

host, port, n, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with open(path, "rb") as f:
    msg = f.read()
start = time.perf_counter()
s = smtplib.SMTP(host, port, local_hostname="bench.example")
for _ in range(n):
    s.sendmail("sender@bench.example", ["rcpt@bench.example"], msg)
s.quit()
ns = int((time.perf_counter() - start) * 1e9)
hwm = -1
with open("/proc/self/status") as f:
    for line in f:
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
print(json.dumps({"ns": ns, "msgs": n, "hwm_kb": hwm}))
