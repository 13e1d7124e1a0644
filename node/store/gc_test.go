package store

import (
	"fmt"
	"testing"
	"time"
)

// TestSupersededInlineFair: set-aside inline chunks beyond the node's
// memory for them go from the user holding the most, so Eve rewriting
// small files over and over never pushes out Alice's.
func TestSupersededInlineFair(t *testing.T) {
	var o oldChunks
	now := time.Now()
	chunk := make([]byte, 8<<10)
	o.addInline("alice", oldKey("alice", "v1", 0), chunk, now)
	for i := 0; i < 2*asideInlineMax/len(chunk); i++ {
		o.addInline("eve", oldKey("eve", fmt.Sprintf("v%d", i), 0), chunk, now.Add(time.Duration(i+1)))
	}
	if _, ok := o.inlineChunk(oldKey("alice", "v1", 0)); !ok {
		t.Error("alice's set-aside chunk was pushed out by eve's")
	}
	if _, ok := o.inlineChunk(oldKey("eve", "v0", 0)); ok {
		t.Error("eve's oldest set-aside chunk kept beyond the node's memory")
	}
	if o.inlineBytes > asideInlineMax {
		t.Errorf("set-aside inline chunks take %d bytes, over %d", o.inlineBytes, asideInlineMax)
	}
	o.dropInlineLocked(now.Add(time.Hour))
	if o.inlineBytes != 0 || len(o.inline) != 0 || len(o.inlineOrder) != 0 {
		t.Errorf("after the grace: %d bytes, %d chunks, %d users left", o.inlineBytes, len(o.inline), len(o.inlineOrder))
	}
}
