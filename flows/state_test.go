package flows_test

import (
	"encoding/json"
	"slices"
	"testing"

	"pensionbot/flows"
)

// The features' parts of a state are stored as fields of one JSON object,
// as they were before the parts had types of their own: states stored
// then read the same now.
func TestStateStoredFormIsFlat(t *testing.T) {
	s := flows.State{Version: flows.SchemaVersion, Lang: "en", Step: flows.StepMenu,
		CertPart:   flows.CertPart{Me: flows.Person{ID: flows.Me, Rejections: 1}, For: "r1", NextID: 2},
		StaffPart:  flows.StaffPart{ReviewID: "case-1"},
		NotifyPart: flows.NotifyPart{Notify: &flows.Notify{Template: "due"}},
	}
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"v", "lang", "step", "me", "for", "next_id", "review", "notify"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("stored state lacks top-level %q: %s", k, raw)
		}
	}
	if slices.ContainsFunc([]string{"CertPart", "StaffPart", "NotifyPart"}, func(k string) bool { _, ok := fields[k]; return ok }) {
		t.Errorf("a part is stored as a nested object: %s", raw)
	}
	var back flows.State
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if back.Me.Rejections != 1 || back.ReviewID != "case-1" || back.Notify == nil || back.Notify.Template != "due" {
		t.Errorf("read back %+v", back)
	}
}
