package agencytest_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"pensionbot/flows"
	"pensionbot/internal/agencytest"
)

func body(caseID, channel string) string {
	b64 := base64.StdEncoding.EncodeToString
	m := map[string]any{
		"case_id": caseID, "name": "张秀兰", "id_number": "11010519491231002X", "phone": "", "district": "",
		"channel": channel, "photos": map[string]string{"card": b64([]byte("c")), "face": b64([]byte("f"))},
	}
	if channel == "general" {
		m["photos"].(map[string]string)["liveness"] = b64([]byte("l"))
		m["liveness_code"] = "1234"
	}
	out, _ := json.Marshal(m)
	return string(out)
}

func do(t *testing.T, srv *agencytest.Server, method, path, token, payload string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func TestContract(t *testing.T) {
	srv := agencytest.New(t)
	tok := srv.Token

	if st, m := do(t, srv, "POST", "/v1/certifications", "", body("a", "green")); st != 401 || errCode(m) != "unauthorized" {
		t.Errorf("no token: %d %v", st, m)
	}
	if st, m := do(t, srv, "POST", "/v1/certifications", "wrong", body("a", "green")); st != 401 || errCode(m) != "unauthorized" {
		t.Errorf("wrong token: %d %v", st, m)
	}
	if st, m := do(t, srv, "POST", "/v1/certifications", tok, `{"case_id":"a"}`); st != 400 || errCode(m) != "invalid_request" {
		t.Errorf("invalid: %d %v", st, m)
	}
	bad := strings.Replace(body("a", "general"), `"liveness_code":"1234"`, `"liveness_code":""`, 1)
	if st, _ := do(t, srv, "POST", "/v1/certifications", tok, bad); st != 400 {
		t.Errorf("general without code: %d", st)
	}

	st, m := do(t, srv, "POST", "/v1/certifications", tok, body("a", "general"))
	if st != 200 || m["status"] != "approved" || m["case_id"] != "a" || m["decided_at"] == nil {
		t.Errorf("approve: %d %v", st, m)
	}

	srv.SetPolicy(agencytest.Pend())
	st, m = do(t, srv, "POST", "/v1/certifications", tok, body("b", "green"))
	ticket, _ := m["ticket"].(string)
	if st != 202 || m["status"] != "pending" || ticket == "" {
		t.Fatalf("pend: %d %v", st, m)
	}
	if st, m2 := do(t, srv, "POST", "/v1/certifications", tok, body("b", "green")); st != 202 || m2["ticket"] != ticket {
		t.Errorf("resubmission: %d %v", st, m2)
	}
	if st, m := do(t, srv, "POST", "/v1/certifications", tok, body("b", "general")); st != 409 || errCode(m) != "case_conflict" {
		t.Errorf("conflict: %d %v", st, m)
	}
	if st, m := do(t, srv, "GET", "/v1/certifications/"+ticket, tok, ""); st != 200 || m["status"] != "pending" {
		t.Errorf("status pending: %d %v", st, m)
	}
	if err := srv.Decide(ticket, "rejected", "bogus"); err == nil {
		t.Error("Decide accepted an unknown reason")
	}
	if err := srv.Decide(ticket, "rejected", flows.ReasonFaceMismatch); err != nil {
		t.Fatal(err)
	}
	if err := srv.Decide(ticket, "approved", ""); err == nil {
		t.Error("Decide decided twice")
	}
	if st, m := do(t, srv, "GET", "/v1/certifications/"+ticket, tok, ""); st != 200 || m["status"] != "rejected" ||
		m["reason"] != "face_mismatch" || m["ticket"] != ticket || m["case_id"] != "b" {
		t.Errorf("status decided: %d %v", st, m)
	}
	if st, m := do(t, srv, "GET", "/v1/certifications/nope", tok, ""); st != 404 || errCode(m) != "not_found" {
		t.Errorf("unknown ticket: %d %v", st, m)
	}

	srv.FailNext(1, 503)
	if st, m := do(t, srv, "GET", "/v1/certifications/"+ticket, tok, ""); st != 503 || errCode(m) != "unavailable" {
		t.Errorf("injected: %d %v", st, m)
	}

	reqs := srv.Requests()
	if len(reqs) != 12 {
		t.Fatalf("%d requests recorded", len(reqs))
	}
	if r := reqs[4]; r.Body == nil || r.Body.Name != "张秀兰" || string(r.Body.Photos.Liveness) != "l" || r.Status != 200 {
		t.Errorf("recorded %+v", r)
	}
	if r := reqs[8]; r.Ticket != ticket || r.Method != "GET" {
		t.Errorf("recorded %+v", r)
	}
}
