package clientconf

import (
	"os"

	"dfs/conf"
	"dfs/core/client"
)

// reloader returns the client's Config.Reload for the conf at path: the
// password from $DFS_PASSWORD as it is then (dfsmount unsets it once read),
// else the Password line; the pins from the Server lines. So a running
// mount follows dfc passwd and dfc pin.
func reloader(path string) func() (client.Reloaded, error) {
	return func() (client.Reloaded, error) {
		var r client.Reloaded
		cc, err := conf.LoadClient(path)
		if err != nil {
			return r, err
		}
		r.Password = cc.Password
		if env, ok := os.LookupEnv(PasswordEnv); ok {
			r.Password = env
		}
		for i, s := range cc.Servers {
			r.Pins[i] = s.Pin
		}
		return r, nil
	}
}
