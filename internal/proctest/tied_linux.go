package proctest

import (
	"os/exec"
	"runtime"
	"syscall"
)

// StartTied starts cmd so that it dies with the test process, however the
// test process ends: a test binary killed by a signal (a closed pipe, a
// timeout) runs no cleanup, and servers it started would outlive it. The
// kernel sends the child SIGKILL when the thread that started it ends,
// and Go may end a thread at any time once nobody holds it, so cmd is
// started from a thread held until release is called (after the child
// was stopped).
func StartTied(cmd *exec.Cmd) (release func(), err error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	started, done := make(chan error), make(chan struct{})
	go func() {
		runtime.LockOSThread()
		err := cmd.Start()
		started <- err
		if err != nil {
			return // the thread ends with the goroutine: nothing depends on it
		}
		<-done
		runtime.UnlockOSThread()
	}()
	if err := <-started; err != nil {
		return func() {}, err
	}
	return func() { close(done) }, nil
}
