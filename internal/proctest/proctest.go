// Package proctest reads what a process cost, for benchmarks that run the
// bot, redis-server or a peer as separate processes.
package proctest

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// CPU is the user and system CPU time process pid has used so far, read
// from /proc/<pid>/stat (Linux; USER_HZ is 100 there).
func CPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu time of %d: %w", pid, err)
	}
	// The fields after the command name, which is in parentheses and may
	// hold spaces.
	f := bytes.Fields(data[bytes.LastIndexByte(data, ')')+2:])
	if len(f) < 13 {
		return 0, fmt.Errorf("cpu time of %d: short stat line", pid)
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("cpu time of %d: bad stat line", pid)
	}
	return time.Duration(ut+st) * time.Second / 100, nil
}
