package mount

import (
	"context"
	"time"

	"dfs/core/client"
)

// defaultCheckpoint is Options.Checkpoint's default: well within what the
// nodes keep an idle upload's chunks (10 minutes), like the kernel's
// dirty_expire_centisecs for a local disk's writeback.
const defaultCheckpoint = 30 * time.Second

// A spool's segments put into its draft are staged on the nodes, not yet
// part of any version: a node drops them after the upload was idle for a
// while, or when it restarts, and the spool keeps its local copy of them
// until a commit holds them. A file kept open for writing (a log file open
// for days) must not leave them there until its close: once a segment is
// stored, the mount commits the spool within Options.Checkpoint on its
// own, putting what else is dirty first (a checkpoint: a new version, and
// a new draft on it), as a local disk writes back dirty pages; a writer
// that stored maxLocal segments commits at once (roomLocked). Readers
// elsewhere then see the file as of the checkpoint.
//
// A failed put or commit is retried: the checkpoint is armed again after
// a backoff (retryMin doubling up to retryMax), and a failed commit first
// gives the spool a fresh draft on its base (redraft), its local copies
// all dirty again. A checkpoint's failure is reported at the next write,
// fsync or close of the file (takeCheckpointErr).

// Backoff of the retries after a failed put or commit.
const (
	retryMin = time.Second
	retryMax = 30 * time.Second
)

// stagedLocked arms sp's checkpoint, unless it is armed: a segment of it
// was just stored.
func (f *File) stagedLocked(sp *spool) {
	if sp.checkpoint == nil {
		f.armLocked(sp, f.sys.opts.Checkpoint)
	}
}

// retryLocked arms sp's checkpoint after the next backoff: a put or a
// commit of it failed.
func (f *File) retryLocked(sp *spool) {
	sp.backoff = min(max(2*sp.backoff, retryMin), retryMax)
	f.armLocked(sp, sp.backoff)
}

// armLocked arms sp's checkpoint to run after d, instead of when it was
// armed to.
func (f *File) armLocked(sp *spool, d time.Duration) {
	sp.stopCheckpoint()
	sp.checkpointGen++
	gen := sp.checkpointGen
	sp.checkpoint = time.AfterFunc(d, func() { f.runCheckpoint(sp, gen) })
}

// runCheckpoint commits sp, if it is still the file's spool and the timer
// armed as gen was not stopped meanwhile (a commit came first).
func (f *File) runCheckpoint(sp *spool, gen int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.spool != sp || sp.checkpoint == nil || sp.checkpointGen != gen {
		return
	}
	sp.checkpoint = nil
	f.checkpointLocked(sp)
}

// checkpointLocked commits sp now; a failure is reported later. The
// retry is armed by putLocked.
func (f *File) checkpointLocked(sp *spool) {
	sp.stopCheckpoint()
	if err := f.putLocked(context.Background(), false); err != nil {
		p, _ := f.path()
		f.sys.opts.Log.Warn("dfs: checkpoint of a file open for writing failed", "file", p, "err", err)
		if sp.checkpointErr == nil {
			sp.checkpointErr = err
		}
	}
}

// stopCheckpoint disarms sp's checkpoint: what it was to commit was
// committed, or is dropped.
func (sp *spool) stopCheckpoint() {
	if sp.checkpoint != nil {
		sp.checkpoint.Stop()
		sp.checkpoint = nil
	}
}

// takeCheckpointErr returns the failure of a checkpoint not reported yet,
// and forgets it: it is reported once, as a local disk reports a failed
// writeback once.
func (sp *spool) takeCheckpointErr() error {
	err := sp.checkpointErr
	sp.checkpointErr = nil
	return err
}

// newSpoolLocked makes the file's spool on base with d the draft of its
// next version, its checkpoint armed by its puts.
func (f *File) newSpoolLocked(base *client.File, d draft) *spool {
	sp := newSpool(f.sys.opts.CacheDir, &f.mu, base, d)
	sp.staged = func() { f.stagedLocked(sp) }
	sp.retry = func() { f.retryLocked(sp) }
	sp.commit = func() {
		if f.spool == sp {
			f.checkpointLocked(sp)
		}
	}
	return sp
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
