package wire

import "fmt"

// checkUniqueIDs refuses a segment list that names one segment id twice:
// a segment is stored once under its id, so two segments with one id
// would share (and overwrite) chunk files.
func checkUniqueIDs(m *Meta) error {
	seen := make(map[string]int64, len(m.Segments))
	for i := range m.Segments {
		s := &m.Segments[i]
		if k, ok := seen[s.ID]; ok {
			return fmt.Errorf("%w: segments %d and %d have the same id %s", ErrBadSegments, k, s.Index, s.ID)
		}
		seen[s.ID] = s.Index
	}
	return nil
}
