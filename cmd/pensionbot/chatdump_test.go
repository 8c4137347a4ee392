package main

import (
	"fmt"
	"os"
	"testing"
)

// dumpChats prints chats as their people saw them, with DUMP_CHATS=1, to
// read a whole conversation as a user would:
//
//	DUMP_CHATS=1 go test -v -run TestDeepLinkInvitation ./cmd/pensionbot
func dumpChats(t *testing.T, h *harness, ids ...int64) {
	if os.Getenv("DUMP_CHATS") == "" {
		return
	}
	for _, id := range ids {
		fmt.Printf("===== chat %d\n", id)
		for _, m := range h.tg.Messages(id) {
			fmt.Printf("--- #%d %v\n%s\n", m.ID, m.Buttons, m.Text)
		}
	}
}
