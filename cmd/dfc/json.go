package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"dfs/core"
	"dfs/core/client"
)

// The --json forms of list, status and where: one JSON document on stdout,
// for scripts, with the same exit statuses as the text forms. Field names
// are snake_case and stay stable; new fields may be added.

// jsonEntry is one file or folder of `dfc list --json`.
type jsonEntry struct {
	Name    string    `json:"name"`
	Type    string    `json:"type"` // "file", "dir", "symlink", "fifo" or "socket"
	Size    int64     `json:"size"`
	Mode    string    `json:"mode"` // octal permission bits, "0644"
	MTime   time.Time `json:"mtime"`
	Version string    `json:"version,omitempty"`
	State   string    `json:"state,omitempty"`  // files: ok, degraded, incomplete
	Target  string    `json:"target,omitempty"` // symlinks: where it points
}

func toJSONEntry(e client.Entry) jsonEntry {
	j := jsonEntry{Name: e.Name, Type: entryType(e), Size: e.Size, Mode: fmt.Sprintf("%04o", e.Mode&0o7777), MTime: e.MTime.UTC(),
		Target: e.Target}
	if j.Type != "file" {
		return j
	}
	j.Version, j.State = e.Version, e.State.String()
	return j
}

// jsonNode is one node of `dfc status --json`.
type jsonNode struct {
	Name        string `json:"name"`
	Addr        string `json:"addr"`
	Up          bool   `json:"up"`
	Error       string `json:"error,omitempty"`
	Version     string `json:"version,omitempty"`
	FreeBytes   uint64 `json:"free_bytes"`
	TotalBytes  uint64 `json:"total_bytes"`
	UsedBytes   uint64 `json:"used_bytes"`
	QuotaBytes  uint64 `json:"quota_bytes"` // 0: no quota
	Quarantined int    `json:"quarantined"`
}

// jsonStatus is `dfc status --json`.
type jsonStatus struct {
	Nodes []jsonNode `json:"nodes"`
	Files int        `json:"files"`
	// OK: every file survives the loss of any one node (exit status 0).
	OK bool `json:"ok"`
	// NotOK lists the files that are not stored with two good copies of
	// every chunk, with their state.
	NotOK []jsonFileState `json:"not_ok"`
	// AtRisk maps a node's name to the files lost if it died.
	AtRisk map[string][]string `json:"at_risk"`
	Lost   []string            `json:"lost"` // files that cannot be read now
	// Forged maps a node's name to what it served in this run that
	// failed authentication (exit status 3 too).
	Forged  map[string]client.Forged `json:"forged"`
	Summary string                   `json:"summary"`
	Error   string                   `json:"error,omitempty"` // the status could not be taken (exit status 1)
}

type jsonFileState struct {
	Name  string `json:"name"`
	State string `json:"state"`
}

func toJSONStatus(c *client.Client, r client.StatusReport, err error) jsonStatus {
	j := jsonStatus{Nodes: []jsonNode{}, NotOK: []jsonFileState{}, AtRisk: map[string][]string{}, Lost: []string{}, Forged: map[string]client.Forged{}}
	for _, n := range r.Nodes {
		jn := jsonNode{Name: n.Name, Addr: n.Addr, Up: n.Up}
		if n.Up {
			jn.Version, jn.FreeBytes, jn.TotalBytes = n.Info.Version, n.Info.FreeBytes, n.Info.TotalBytes
			jn.UsedBytes, jn.QuotaBytes, jn.Quarantined = n.Info.Used, n.Info.Quota, n.Info.Quarantine
		} else if n.Err != nil {
			jn.Error = n.Err.Error()
		}
		j.Nodes = append(j.Nodes, jn)
	}
	if err != nil {
		j.Error = err.Error()
		return j
	}
	j.Files = len(r.Files)
	for _, f := range r.Files {
		if f.State != client.StateOK {
			j.NotOK = append(j.NotOK, jsonFileState{f.Name, f.State.String()})
		}
	}
	for n, names := range r.AtRisk {
		j.AtRisk[c.NodeName(n)] = names
	}
	j.Lost = append(j.Lost, r.Lost...)
	for n, f := range r.Forged {
		j.Forged[c.NodeName(n)] = f
	}
	j.OK, j.Summary = r.OK(), r.Summary(c)
	return j
}

// jsonWhere is `dfc where --json NAME`: every stored segment (holes are
// the indexes not listed) with its chunks.
type jsonWhere struct {
	Name     string        `json:"name"`
	Size     int64         `json:"size"`
	Version  string        `json:"version"`
	Stored   int64         `json:"stored"` // bytes in stored segments
	State    string        `json:"state"`
	Segments []jsonSegment `json:"segments"`
}

type jsonSegment struct {
	Index  int64       `json:"index"`
	ID     string      `json:"id"`
	Start  int64       `json:"start"` // first byte in the file
	End    int64       `json:"end"`   // one past the last stored byte
	MD5    string      `json:"md5"`
	X      int         `json:"x"`
	State  string      `json:"state"`
	Chunks []jsonChunk `json:"chunks"`
}

type jsonChunk struct {
	Chunk      int      `json:"chunk"` // 1..4
	Start      int64    `json:"start"` // first byte in the file
	End        int64    `json:"end"`   // one past the last byte
	PlacedOn   []string `json:"placed_on"`
	GoodCopies []string `json:"good_copies"`
}

func toJSONWhere(c *client.Client, f client.Entry) jsonWhere {
	j := jsonWhere{Name: f.Name, Size: f.Size, Version: f.Version, Stored: f.Stored(), State: f.State.String(), Segments: []jsonSegment{}}
	for i := range f.Segments {
		s := &f.Segments[i]
		x := s.X()
		start := s.Index * core.SegmentSize
		js := jsonSegment{Index: s.Index, ID: s.ID, Start: start, End: start + s.Size, MD5: s.MD5, X: x, State: f.SegmentState(i).String()}
		for ch := 0; ch < core.NumChunks; ch++ {
			cs, ce := core.ChunkBounds(s.Size, ch)
			jc := jsonChunk{Chunk: ch + 1, Start: start + cs, End: start + ce, PlacedOn: []string{}, GoodCopies: []string{}}
			for _, n := range core.ChunkNodes(x, ch) {
				jc.PlacedOn = append(jc.PlacedOn, c.NodeName(n))
			}
			for _, n := range f.Copies[i][ch] {
				jc.GoodCopies = append(jc.GoodCopies, c.NodeName(n))
			}
			js.Chunks = append(js.Chunks, jc)
		}
		j.Segments = append(j.Segments, js)
	}
	return j
}

// writeJSON writes v as indented JSON and a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
