package node

import (
	"slices"
	"testing"

	"dfs/core"
	"dfs/core/wire"
)

func (c *tclient) healOp(op, p string, m wire.Meta) error {
	return c.call(wire.TypeUpdate, wire.UpdateReq{Op: op, Path: p, Meta: m, Heal: true}, nil)
}

// listed returns the paths under dir, recursively, with a "-" after the
// tombstones'.
func listed(t *testing.T, c *tclient, dir string) []string {
	t.Helper()
	_, ms, err := c.list(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		p := m.Path
		if m.Deleted {
			p += "-"
		}
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// TestHealMkdirReplacesEarlierFolder: heal's mkdir over a live folder with
// another Born makes it the new folder and removes what is older than the
// new Born, looking into a folder the node made itself (implicit) rather
// than taking it whole; a client's mkdir there is StatusExist.
func TestHealMkdirReplacesEarlierFolder(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	b1 := core.NewVersion()
	if err := c.updateOp(wire.UpdateMkdir, "d", wire.Meta{Stamp: b1, Born: b1, Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"d/old", "d/e/x"} { // d/e: made by the node for d/e/x
		if _, _, err := c.upload(p, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	b2 := core.NewVersion()
	for _, p := range []string{"d/new", "d/e/y"} {
		if _, _, err := c.upload(p, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	wantStatus(t, "client mkdir over a live folder", c.updateOp(wire.UpdateMkdir, "d", wire.Meta{Stamp: core.NewVersion()}), wire.StatusExist)
	if err := c.healOp(wire.UpdateMkdir, "d", wire.Meta{Stamp: b2, Born: b2, Mode: 0o700}); err != nil {
		t.Fatal(err)
	}
	if ch := c.lookup("d"); ch[0].Born != b2 || ch[0].Stamp != b2 || ch[0].Mode != 0o700 {
		t.Errorf("d after heal's mkdir: %+v", ch[0])
	}
	if got, want := listed(t, c, "d"), []string{"d/e", "d/e/y", "d/new"}; !slices.Equal(got, want) {
		t.Errorf("under d: %q, want %q", got, want)
	}

	// A chmod stamped d alike on a node with an earlier folder: the later
	// Born wins a mkdir with the same stamp, an earlier one does not.
	s := core.NewVersion()
	if err := c.updateOp(wire.UpdateSetattr, "d", wire.Meta{Stamp: s, Mode: 0o750}); err != nil {
		t.Fatal(err)
	}
	b3 := core.NewVersion()
	wantStatus(t, "client mkdir, same stamp", c.updateOp(wire.UpdateMkdir, "d", wire.Meta{Stamp: s, Born: b3}), wire.StatusStale)
	wantStatus(t, "heal mkdir, same stamp, older born", c.healOp(wire.UpdateMkdir, "d", wire.Meta{Stamp: s, Born: b1}), wire.StatusStale)
	if err := c.healOp(wire.UpdateMkdir, "d", wire.Meta{Stamp: s, Born: b3, Mode: 0o750}); err != nil {
		t.Fatal(err)
	}
	if got := listed(t, c, "d"); len(got) != 0 {
		t.Errorf("under d after a later folder: %q, want nothing (d/e was only there for d/e/y)", got)
	}
	if _, _, err := c.upload("f", []byte("f")); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "heal mkdir over a file", c.healOp(wire.UpdateMkdir, "f", wire.Meta{Stamp: core.NewVersion()}), wire.StatusExist)
}

// TestHealRmdirRemovesOlder: heal's rmdir is blocked only by live entries
// as new as itself, and removes the older ones (and r/s, which the node
// made only for r/s/b); a client's rmdir is blocked by any.
func TestHealRmdirRemovesOlder(t *testing.T) {
	n := startNode(t, nil)
	c := login(t, n.addr, "alice", "Crimson33")
	for _, p := range []string{"r/a", "r/s/b"} {
		if _, _, err := c.upload(p, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	rm := core.NewVersion()
	if _, _, err := c.upload("r/c", []byte("newer")); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "client rmdir", c.updateOp(wire.UpdateRmdir, "r", wire.Meta{Stamp: rm}), wire.StatusNotEmpty)
	wantStatus(t, "heal rmdir, newer entry", c.healOp(wire.UpdateRmdir, "r", wire.Meta{Stamp: rm}), wire.StatusNotEmpty)
	if err := c.updateOp(wire.UpdateDelete, "r/c", wire.Meta{Stamp: core.NewVersion()}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "client rmdir, older entries", c.updateOp(wire.UpdateRmdir, "r", wire.Meta{Stamp: rm}), wire.StatusNotEmpty)
	if err := c.healOp(wire.UpdateRmdir, "r", wire.Meta{Stamp: rm}); err != nil {
		t.Fatal(err)
	}
	if ch := c.lookup("r"); !ch[0].Deleted || !ch[0].Dir {
		t.Errorf("r after heal's rmdir: %+v", ch[0])
	}
	if got, want := listed(t, c, "r"), []string{"r/c-"}; !slices.Equal(got, want) {
		t.Errorf("under r: %q, want %q", got, want)
	}
}
