package store

import (
	"os"
)

// writeDurable replaces the file name in root with data, durably, as a
// config file is written: a temporary file (O_EXCL, mode 0600), fsync,
// rename over name, fsync of the folder. A crash leaves the old file or the
// new one, never a part.
func writeDurable(root *os.Root, name string, data []byte) error {
	tmp := name + ".tmp-" + randHex(8)
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, name)
	}
	if err != nil {
		_ = root.Remove(tmp)
		return err
	}
	d, err := root.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
