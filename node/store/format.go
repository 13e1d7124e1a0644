package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FormatLine is the content of DATA_DIR/FORMAT: the data folder's format
// (docs/format.md). A node reads only this one.
const FormatLine = "dfs data format 3 (encrypted)\n"

// formatSegments is the FORMAT of the format before: segments, with
// contents and names in plaintext.
const formatSegments = "dfs data format 2 (segments)\n"

// formatFile names the format of a data folder.
const formatFile = "FORMAT"

// ErrFormat is wrapped by the error that refuses a data folder of another
// format.
var ErrFormat = errors.New("refusing the data folder")

// checkFormat checks that the data folder dir is of the format this node
// reads. A folder without FORMAT holding nothing but the node's key and
// certificate is new: with create, FORMAT is written into it (durably).
// Anything else is refused, never misread.
func checkFormat(dir string, create bool) error {
	b, err := os.ReadFile(filepath.Join(dir, formatFile))
	if err == nil {
		switch string(b) {
		case FormatLine:
			return nil
		case formatSegments:
			return fmt.Errorf("%w: %s holds data of format 2, which this node cannot read: no user data of format 2 can be converted without the users' passwords (it is stored in plaintext, format 3 encrypted with keys only they can make); move it aside and start with an empty one",
				ErrFormat, dir)
		}
		return fmt.Errorf("%w: %s says %q; this dfsnode reads only %q: run the dfsnode that wrote it, or move the folder aside and start with an empty one",
			ErrFormat, filepath.Join(dir, formatFile), b, FormatLine)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read the data folder's format: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read the data folder: %w", err)
	}
	for _, e := range ents {
		// The key and certificate, and the lock (node.LockFile) the
		// process takes before it opens the store, are not data.
		if n := e.Name(); n != "node.key" && n != "node.crt" && n != "dfsnode.lock" {
			return fmt.Errorf("%w: %s holds data in an older dfs format (whole-file, format 1) that this dfsnode cannot read (it has %q but no FORMAT file); there are no tools to convert it (no users of that format existed): move the folder aside and start with an empty one",
				ErrFormat, dir, n)
		}
	}
	if !create {
		return fmt.Errorf("%w: %s is not a node data folder (no FORMAT file)", ErrFormat, dir)
	}
	return writeFormat(dir)
}

// writeFormat writes FORMAT into the new data folder dir, durably, as a
// config file is written: a temporary file, fsync, rename, fsync of the
// folder.
func writeFormat(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("make data folder: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := writeDurable(root, formatFile, []byte(FormatLine)); err != nil {
		return fmt.Errorf("write the data folder's format: %w", err)
	}
	return nil
}
