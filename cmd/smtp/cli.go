package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// cli is one run of the command: its streams and environment, and the
// few things tests replace (the clock, terminal detection, the password
// prompt).
type cli struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	env    func(string) string

	// now is the clock used to time each step and to tell how far off a
	// certificate's expiry is.
	now func() time.Time
	// isTerminal reports whether a stream given to run is a terminal.
	isTerminal func(stream any) bool
	// readPassword reads a password from the terminal without echo.
	readPassword func() ([]byte, error)
	// ctx ends serve, as Ctrl-C does.
	ctx context.Context
	// listening, when not nil, is told serve's address once it listens.
	listening func(addr string)
}

// run runs the command with args (without the program name) and returns
// the exit status. It is main without the process: tests call it.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	return newCLI(stdin, stdout, stderr, env).run(args)
}

func newCLI(stdin io.Reader, stdout, stderr io.Writer, env func(string) string) *cli {
	c := &cli{
		stdin:      stdin,
		stdout:     stdout,
		stderr:     stderr,
		env:        env,
		now:        time.Now,
		isTerminal: isTerminal,
		ctx:        context.Background(),
	}
	c.readPassword = func() ([]byte, error) {
		f, _ := c.stdin.(*os.File)
		if f == nil {
			return nil, errors.New("stdin is not a terminal")
		}
		return term.ReadPassword(int(f.Fd()))
	}
	return c
}

// isTerminal reports whether stream is an *os.File open on a terminal.
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

const usage = `smtp sends mail, probes mail servers, and catches mail for tests.

Usage:
  smtp probe [flags] HOST[:PORT]   show what a server offers, over TLS too
  smtp send [flags] -t ADDR        send a message
  smtp serve [flags]               a local server that prints and keeps what
                                   it receives, and never relays it
  smtp help [probe|send|serve]     show the flags of a command

Exit status: 0 done; 64 bad command line or input; 69 refused for good
(5xx); 75 temporary failure (4xx, timeout, lost connection); 78 TLS or
certificate failure (the server expects TLS first, or does not speak it);
79 sent to some recipients but refused for others (each one is listed
on stderr: send again to those only).
`

func (c *cli) run(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usage)
		return exitUsage
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "probe":
		err = c.probe(rest)
	case "send":
		err = c.send(rest)
	case "serve":
		err = c.serve(rest)
	case "help", "-h", "-help", "--help":
		return c.help(rest)
	default:
		err = usageErrorf("unknown command %q (want probe, send, serve or help)", cmd)
	}
	return c.report(err)
}

// help prints the general usage or a command's flags.
func (c *cli) help(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stdout, usage)
		return exitOK
	}
	switch args[0] {
	case "probe":
		fs, _ := probeFlags()
		printFlags(c.stdout, fs, probeUsage)
	case "send":
		fs, _ := sendFlags()
		printFlags(c.stdout, fs, sendUsage)
	case "serve":
		fs, _ := serveFlags()
		printFlags(c.stdout, fs, serveUsage)
	default:
		return c.report(usageErrorf("no help for %q (want probe, send or serve)", args[0]))
	}
	return exitOK
}

// report prints err in one line, and for refused recipients one line
// each, and returns the exit status it calls for.
func (c *cli) report(err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	code := exitCode(err)
	fmt.Fprintf(c.stderr, "smtp: %s\n", describe(err))
	for _, line := range refusalLines(err) {
		fmt.Fprintf(c.stderr, "smtp: %s\n", line)
	}
	return code
}

// aliasMark starts the usage of a flag that is another spelling of the
// flag named after it; printFlags shows it beside that flag.
const aliasMark = "\x00alias of "

// alias makes name another spelling of the flag target, as swaks spells
// it ("-t" for "--to").
func alias(fs *flag.FlagSet, name, target string) {
	fs.Var(fs.Lookup(target).Value, name, aliasMark+target)
}

// swaksShort are swaks's short flags, which the usage shows with one
// dash, as swaks does; the flag package takes one dash or two for any.
var swaksShort = map[string]bool{"t": true, "f": true, "s": true, "au": true, "ap": true}

// dashes returns a flag's name as the usage shows it: "-t" for swaks's
// short flags, "--name" for the others.
func dashes(name string) string {
	if swaksShort[name] {
		return "-" + name
	}
	return "--" + name
}

// printFlags prints a command's usage line and its flags, each with its
// other spellings: "-t, --to address".
func printFlags(w io.Writer, fs *flag.FlagSet, head string) {
	fmt.Fprint(w, head)
	others := map[string][]string{}
	fs.VisitAll(func(f *flag.Flag) {
		if target, ok := strings.CutPrefix(f.Usage, aliasMark); ok {
			others[target] = append(others[target], f.Name)
		}
	})
	fs.VisitAll(func(f *flag.Flag) {
		if strings.HasPrefix(f.Usage, aliasMark) {
			return
		}
		name, text := flag.UnquoteUsage(f)
		var short, long []string
		for _, o := range others[f.Name] {
			if swaksShort[o] {
				short = append(short, dashes(o))
			} else {
				long = append(long, dashes(o))
			}
		}
		line := "  " + strings.Join(append(append(short, dashes(f.Name)), long...), ", ")
		if name != "" {
			line += " " + name
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" {
			text += " (default " + f.DefValue + ")"
		}
		if len(line) > 28 {
			fmt.Fprintf(w, "%s\n%-28s %s\n", line, "", text)
			return
		}
		fmt.Fprintf(w, "%-28s %s\n", line, text)
	})
}

// parse parses args with fs, allowing flags after the positional
// arguments as well as before ("smtp probe HOST --json"), and returns the
// positional ones. "--" ends the flags. -h prints head and the flags.
func (c *cli) parse(fs *flag.FlagSet, head string, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printFlags(c.stdout, fs, head)
				return nil, err
			}
			// The flag package names flags with one dash; the usage
			// shows two, which it accepts as well.
			return nil, &usageError{msg: strings.Replace(err.Error(), ": -", ": --", 1)}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// newFlagSet returns a flag set that returns its errors rather than
// printing them and exiting: the caller prints one line.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// stringList is a flag that may be repeated; each use adds a value.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ", ") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}
