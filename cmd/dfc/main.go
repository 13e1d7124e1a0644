// Command dfc is the dfs command-line client: it stores files on the four
// chunk nodes named in dfc.conf, lists them, fetches them back and removes
// them, either as one command per run or from an interactive prompt, as the
// Python proof of concept did.
//
//	dfc [-conf FILE] COMMAND [ARGS]   run one command (flags may follow it)
//	dfc [-conf FILE]                  interactive prompt
//	dfc dfc.conf                      interactive prompt with that conf
//
// Exit status: 0 on success, 1 when something failed (at the prompt: when
// any command failed), 2 for a usage error.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"dfs/cmd/internal/cli"
)

// command is one entry of the command table. To add a command, add it to
// commands; interactive mode picks it up too unless noPrompt is set.
type command struct {
	args     string // argument synopsis for the usage text
	help     string // one line for the usage text
	run      func(ctx context.Context, e *env, args []string) error
	noPrompt bool   // not offered at the interactive prompt (it reads stdin itself)
	alias    string // shown as an alias of this command, not on its own line
}

// commands maps each command name to its implementation.
var commands = map[string]command{
	"put":    {args: "[-r] [-to DIR | -as NAME] FILE...", help: "store local files under their base names (in folder DIR, or as NAME); -r: folders too, with what is under them", run: runPut},
	"get":    {args: "[-r] NAME [DEST|-]", help: "fetch NAME into DEST (default: its base name here; a folder DEST gets the base name inside; - is stdout); -r: a folder and what is under it", run: runGet},
	"list":   {args: "[-h] [-json] [PREFIX]", help: "list files and folders (whose names start with PREFIX); -h: sizes as 1.5K, 20M; -json: a JSON array", run: runList},
	"ls":     {run: runList, alias: "list"},
	"rm":     {args: "NAME...", help: "remove files (or empty folders)", run: runRm},
	"mkdir":  {args: "[-p] NAME", help: "make a folder (-p: and its missing parents; an existing one is fine)", run: runMkdir},
	"status": {args: "[-json]", help: "show the nodes and whether every file survives the loss of any one node (exit 0: yes, 3: no)", run: runStatus},
	"where":  {args: "[-json] NAME", help: "show which nodes hold each chunk of NAME", run: runWhere},
	"heal":   {args: "", help: "restore two good copies of every chunk and replay missed changes on every node", run: runHeal},
	"pin":    {args: "[-yes] [-no-heal] DFSn", help: "show a node's new key (after a reinstall) and pin it after confirmation, then heal", run: runPin, noPrompt: true},
	"passwd": {args: "", help: "change your password on every node (old, then new twice; lines from stdin when not a terminal)", run: runPasswd, noPrompt: true},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit status.
func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	if cli.IsVersion(args) {
		fmt.Fprintln(stdout, cli.Version("dfc"))
		return cli.ExitOK
	}
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	fs := e.flagSet("dfc")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			usage(stdout)
			return cli.ExitOK
		}
		fmt.Fprintf(stderr, "dfc: %v\n", err)
		usage(stderr)
		return cli.ExitUsage
	}
	args = fs.Args()
	defer e.close()

	// The seed ran "dfc.py dfc.conf": one argument naming a .conf file opens
	// the prompt with that conf.
	if len(args) == 1 && strings.HasSuffix(args[0], ".conf") {
		e.confPath = args[0]
		args = nil
	}
	if len(args) == 0 {
		return interactive(e)
	}
	name := args[0]
	if name == "help" {
		usage(stdout)
		return cli.ExitOK
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "dfc: unknown command %q\n", name)
		usage(stderr)
		return cli.ExitUsage
	}
	ctx, stop := cli.SignalContext()
	defer stop()
	return e.exitCode(name, cmd.run(ctx, e, args[1:]))
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: dfc [-conf FILE] COMMAND [ARGS]   (flags may also follow the command)
       dfc [-conf FILE]                  interactive prompt (also: dfc FILE.conf)

commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := commands[n]
		if c.alias != "" {
			continue
		}
		syn := n
		for a, ac := range commands {
			if ac.alias == n {
				syn += "|" + a
			}
		}
		fmt.Fprintf(w, "  %s\n      %s\n", strings.TrimSpace(syn+" "+c.args), c.help)
	}
	fmt.Fprint(w, `
The conf is -conf FILE, else $DFS_CONF, else ./dfc.conf, else ~/.config/dfs/dfc.conf.
The password is $DFS_PASSWORD, else the conf's Password line, else asked for.
`)
}
