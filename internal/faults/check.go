package faults

import (
	"context"
	"fmt"
	"sort"
	"time"

	"dfs/core"
	"dfs/core/client"
	"dfs/internal/testcluster"
)

// checker reads back every name after the run.
type checker struct {
	c      *testcluster.Cluster
	client *client.Client
	hist   map[string]history // every worker's, merged
	t      *tally
	logf   func(format string, args ...any)
}

// names returns the names in a stable order.
func (ch *checker) names() []string {
	out := make([]string, 0, len(ch.hist))
	for n := range ch.hist {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// readAll gets every name and judges it; with strict, unavailability is a
// loss too (one node down must not make a healed file unreadable). It
// returns how many acknowledged writes it confirmed.
func (ch *checker) readAll(phase string, strict bool) int {
	checked := 0
	for _, name := range ch.names() {
		h := ch.hist[name]
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		data, err := testcluster.Get(ctx, ch.client, name)
		cancel()
		v, msg := judge(h, data, err)
		if v == readUnavailable && strict {
			v = readLost
		}
		ch.t.record(v, name, phase+": "+msg)
		if allowed, sawAck := h.allowed(); v == readOK && sawAck && !allowed[0].rm {
			checked++
		}
	}
	return checked
}

// heal runs heal up to three times until status says every file survives
// the loss of any one node, and returns the last status error or summary.
func (ch *checker) heal() error {
	var last error
	for try := 1; try <= 3; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		rep, herr := ch.client.Heal(ctx, client.HealOptions{})
		st, serr := ch.client.Status(ctx)
		cancel()
		ch.logf("final heal %d: %d files, %d chunks copied, %d updated; heal error: %v", try, rep.Files, rep.ChunksCopied, rep.Updated, herr)
		switch {
		case serr != nil:
			last = fmt.Errorf("status: %w", serr)
		case !st.OK():
			last = fmt.Errorf("status after heal: %s", st.Summary(ch.client))
			ch.explain(st)
		case herr != nil:
			last = fmt.Errorf("heal: %w", herr)
		default:
			ch.logf("status: %s", st.Summary(ch.client))
			return nil
		}
		time.Sleep(2 * time.Second)
	}
	return last
}

// eachNodeDown stops each node in turn and reads every name without it.
func (ch *checker) eachNodeDown() {
	for n := 0; n < core.NumNodes; n++ {
		ch.c.Kill(n)
		ch.readAll("with "+core.NodeName(n)+" down", true)
		ch.c.Restart(n)
	}
}

// explain logs what each node holds of the files status calls lost, so a
// failure can be understood after the run's folders are gone.
func (ch *checker) explain(st client.StatusReport) {
	for _, e := range st.Files {
		if e.State != client.StateIncomplete {
			continue
		}
		ch.logf("%s: version %s stamp %s state %v copies %v", e.Name, e.Version, e.Stamp, e.State, e.Copies)
		for n, m := range e.Raw {
			if m == nil {
				ch.logf("  %s: nothing", core.NodeName(n))
				continue
			}
			ch.logf("  %s: version %s stamp %s deleted %v held %v size %d", core.NodeName(n), m.Version, m.Stamp, m.Deleted, m.Held, m.Size)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		se, err := ch.client.Stat(ctx, e.Name)
		cancel()
		ch.logf("  stat: version %s state %v copies %v err %v", se.Version, se.State, se.Copies, err)
	}
}
