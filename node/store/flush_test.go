package store

import (
	"slices"
	"testing"
	"time"
)

// TestFlushTakesFilesOfNewerWrite: a pass that promotes a write of an
// entry newer than the one registered with it (a commit came between the
// pass's start and its look at the entry) also fsyncs the chunk files
// registered before that write, which wait in the next batch: else the
// promoted @meta could name chunk files whose data is not on the disk.
func TestFlushTakesFilesOfNewerWrite(t *testing.T) {
	st, err := Open(Config{Dir: t.TempDir(), FlushDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.User("alice")
	if err != nil {
		t.Fatal(err)
	}
	data := testData(300<<10, 9)
	a := putFile(t, u, "a", data)
	fl := st.fl
	fl.mu.Lock() // a pass starts: it takes the batch
	b := fl.cur
	fl.cur = newBatch()
	fl.mu.Unlock()

	// A heal commit of a: its chunk files go with the next batch.
	if _, err := u.Quarantine(a.Segments[0].ID, 2, nil); err != nil {
		t.Fatal(err)
	}
	upload := randHex(16)
	stageSegment(t, u, upload, a.Segments[0], data)
	if _, err := u.Commit("a", upload, a, false, nil); err != nil {
		t.Fatal(err)
	}
	fl.mu.Lock()
	later := slices.Clone(fl.cur.files)
	fl.mu.Unlock()
	if len(later) == 0 {
		t.Fatal("the heal registered no file")
	}
	fds, err := fl.open(b, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range later {
		if !slices.Contains(fds, fd) {
			t.Errorf("the pass does not fsync %s, a chunk file of the write it promotes", fd.Name())
		}
	}
	for _, fd := range fds {
		fd.Close()
	}
}
