//go:build !linux

package proctest

import "os/exec"

// StartTied starts cmd. Only Linux can tie a child's life to its parent's.
func StartTied(cmd *exec.Cmd) (release func(), err error) {
	return func() {}, cmd.Start()
}
