package bot

import "os"

// failpoint stops the process where a fault test asked (Options.Failpoint),
// as abruptly as kill -9: no deferred work, no flushing.
func (b *Bot) failpoint(name string) {
	if b.opt.Failpoint != "" && b.opt.Failpoint == name {
		b.log.Warn("failpoint reached; stopping the process", "failpoint", name)
		os.Exit(137)
	}
}
