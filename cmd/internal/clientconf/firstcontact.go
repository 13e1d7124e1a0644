package clientconf

import (
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/term"

	"dfs/conf"
)

// firstContact decides about the key of a node whose Server line has no
// pin (client.Config.OnNewPin), as ssh does about a host it does not know:
// on a terminal it shows the node's name, address and fingerprint and asks;
// without one it pins the key and warns; with Pins: strict it refuses.
// Accepted keys are written to the node's Server line.
type firstContact struct {
	cc  *conf.Client
	in  *os.File  // asked on when it is a terminal
	out io.Writer // questions and warnings

	mu      sync.Mutex // one question at a time; guards refused
	refused string     // the node whose key was refused: no more questions
}

func (f *firstContact) decide(n int, fp string) error {
	s := f.cc.Servers[n]
	if f.cc.StrictPins {
		return fmt.Errorf("no pin in %s, which has Pins: strict, so nothing was sent to it; "+
			"add the node's key to its Server line (`dfsnode fingerprint DATA_DIR` on the node prints it), "+
			"or remove the Pins line to be asked about it", f.where())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !term.IsTerminal(int(f.in.Fd())) {
		f.pin(s, fp)
		fmt.Fprintf(f.out, "dfs: warning: first contact with %s at %s: trusted its key %s without asking (no terminal); "+
			"compare it with `dfsnode fingerprint DATA_DIR` on the node, or use Pins: strict\n", s.Name, s.Addr, fp)
		return nil
	}
	if f.refused != "" {
		return fmt.Errorf("key %s not trusted: not asked about once the key of %s was refused (answered no); nothing was sent to the node", fp, f.refused)
	}
	q := fmt.Sprintf("dfs: first contact with %s at %s, which has no pin in %s.\n"+
		"Its key fingerprint is %s\n"+
		"Compare it with `dfsnode fingerprint DATA_DIR` run on that node.\n"+
		"Trust this key and pin it (yes/no)? ", s.Name, s.Addr, f.where(), fp)
	ok, err := conf.AskYesNo(q, f.in, f.out)
	if err != nil {
		return fmt.Errorf("first contact: %w", err)
	}
	if !ok {
		f.refused = s.Name
		return fmt.Errorf("key %s not trusted (answered no), so nothing was sent to the node", fp)
	}
	f.pin(s, fp)
	return nil
}

// pin writes the accepted key into the node's Server line.
func (f *firstContact) pin(s conf.Server, fp string) {
	if f.cc.Path == "" {
		return
	}
	if err := conf.SetPin(f.cc.Path, s.Name, fp); err != nil {
		fmt.Fprintf(f.out, "dfs: could not record the key of %s in %s: %v\n", s.Name, f.cc.Path, err)
		return
	}
	fmt.Fprintf(f.out, "dfs: pinned the key of %s (%s) in %s\n", s.Name, fp, f.cc.Path)
}

// where names the conf file in messages.
func (f *firstContact) where() string {
	if f.cc.Path == "" {
		return "the client configuration"
	}
	return f.cc.Path
}
