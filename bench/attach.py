"""The Python side of the attachment comparison (attach.go): build an
EmailMessage with a text part and one attachment of SIZE bytes, flatten it
with as_bytes, and print the time, or with HEAP true the peak heap, as one
line of JSON."""
import json
import resource
import sys
import time
import tracemalloc
from email import policy
from email.message import EmailMessage


def main():
    size, heap = int(sys.argv[1]), sys.argv[2] == "true"
    data = bytes(i * 7 & 0xff for i in range(256)) * (size // 256) + b"\0" * (size % 256)
    data = bytes(b ^ (i >> 8 & 0xff) for i, b in enumerate(data[:4096])) + data[4096:]
    if heap:
        tracemalloc.start()
    start = time.perf_counter_ns()
    msg = EmailMessage(policy=policy.SMTP.clone(cte_type="7bit"))
    msg["From"] = "alice@example.com"
    msg["To"] = "bob@example.org"
    msg["Subject"] = "Report"
    msg.set_content("The report is attached.\n")
    msg.add_attachment(data, "application", "octet-stream", filename="report.bin")
    out = msg.as_bytes()
    ns = time.perf_counter_ns() - start
    res = {"written": len(out), "hwm_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
           "python": "%d.%d" % sys.version_info[:2]}
    if heap:
        res["peak_heap"] = tracemalloc.get_traced_memory()[1] + len(data)
    else:
        res["ns"] = ns
    print(json.dumps(res))


main()
