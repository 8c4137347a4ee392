package proctest

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// A child started with StartTied dies when the process that started it is
// killed, which runs no cleanup.
func TestStartTiedDiesWithParent(t *testing.T) {
	if os.Getenv("PROCTEST_PARENT") == "1" {
		// The parent: start a long sleep, say its PID, wait to be killed.
		child := exec.Command("sleep", "60")
		if _, err := StartTied(child); err != nil {
			t.Fatal(err)
		}
		os.Stdout.WriteString(strconv.Itoa(child.Process.Pid) + "\n")
		time.Sleep(time.Minute)
		return
	}
	parent := exec.Command(os.Args[0], "-test.run", "^TestStartTiedDiesWithParent$")
	parent.Env = append(os.Environ(), "PROCTEST_PARENT=1")
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		parent.Process.Kill()
		t.Fatalf("the parent said no PID: %v", err)
	}
	pid, _ := strconv.Atoi(line[:len(line)-1])
	parent.Process.Kill()
	parent.Wait()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		// Signal 0 checks that the process exists; a killed child whose
		// parent died is reaped by init.
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t.Fatalf("child %d outlived its killed parent", pid)
}
