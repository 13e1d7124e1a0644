package clientconf

import (
	"dfs/conf"
	"dfs/core/client"
)

// reloader returns the client's Config.Reload for the conf at path: the
// pins from its Server lines and, when the password came from its Password
// line (fromFile), that line's password; a password given otherwise ($DFS_PASSWORD,
// which overrides the file, or typed) has no new value to read. So a
// running mount follows dfc passwd and dfc pin.
func reloader(path string, fromFile bool) func() (client.Reloaded, error) {
	return func() (client.Reloaded, error) {
		var r client.Reloaded
		cc, err := conf.LoadClient(path)
		if err != nil {
			return r, err
		}
		if fromFile {
			r.Password = cc.Password
		}
		for i, s := range cc.Servers {
			r.Pins[i] = s.Pin
		}
		return r, nil
	}
}
