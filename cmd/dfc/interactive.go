package main

import (
	"bufio"
	"errors"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/term"

	"dfs/cmd/internal/cli"
)

// interactive runs the proof of concept's prompt: it reads command lines
// (PUT, GET, LIST, RM, MKDIR, HELP, EXIT or QUIT, in any case) until EXIT or
// end of input. A failed command is reported and the session goes on; the
// exit status is 1 if any command failed. Ctrl-C cancels the running
// command; at the prompt it ends the session.
func interactive(e *env) int {
	tty := term.IsTerminal(int(e.stdin.Fd()))
	ctx, stop := cli.SignalContext()
	_, err := e.connect(ctx)
	stop()
	if err != nil {
		// As in the seed: no point in a prompt when no node answers or the
		// password is wrong.
		e.printErr("", err)
		return cli.ExitFailure
	}
	if tty {
		fmt.Fprintf(e.stdout, "connected as %s; type HELP for the commands, EXIT to leave\n", e.cfg.User)
	}
	sc := bufio.NewScanner(e.stdin)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	status := 0
	for {
		if tty {
			fmt.Fprint(e.stdout, "dfc> ")
		}
		if !sc.Scan() {
			if tty {
				fmt.Fprintln(e.stdout)
			}
			break
		}
		words, err := splitLine(sc.Text())
		if err != nil {
			fmt.Fprintf(e.stderr, "dfc: %v\n", err)
			status = cli.ExitFailure
			continue
		}
		if len(words) == 0 {
			continue
		}
		name := strings.ToLower(words[0])
		switch name {
		case "exit", "quit":
			return status
		case "help", "?":
			promptHelp(e)
			continue
		}
		cmd, ok := commands[name]
		if !ok || cmd.noPrompt {
			fmt.Fprintf(e.stderr, "dfc: unknown command %q (type HELP)\n", words[0])
			status = cli.ExitFailure
			continue
		}
		ctx, stop := cli.SignalContext()
		if e.exitCode(name, cmd.run(ctx, e, words[1:])) != cli.ExitOK {
			status = cli.ExitFailure
		}
		stop()
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(e.stderr, "dfc: read commands: %v\n", err)
		return cli.ExitFailure
	}
	return status
}

func promptHelp(e *env) {
	fmt.Fprintln(e.stdout, "commands (in any case):")
	names := make([]string, 0, len(commands))
	for n, c := range commands {
		if c.alias == "" && !c.noPrompt {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(e.stdout, "  %s %s\n", strings.ToUpper(n), commands[n].args)
	}
	fmt.Fprintln(e.stdout, "  EXIT | QUIT")
}

// splitLine splits a command line into words at spaces; '...' and "..."
// quote a word with spaces, and a backslash escapes the next character.
func splitLine(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	escaped := false
	for _, r := range line {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 || escaped {
		return nil, errors.New("unfinished quote or escape")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
