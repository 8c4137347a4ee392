package agency

import "testing"

func TestMask(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"id_number 11010519491231002X invalid", "id_number 110105********002X invalid"},
		{"phone 13800138000 unknown", "phone 138****8000 unknown"},
		{"account 1234567 and 42", "account ******* and 42"},
		{"姓名 张秀兰 与身份证不符 (case c-1)", "… … … (case c-1)"},
		{"", ""},
	} {
		if got := mask(tt.in); got != tt.want {
			t.Errorf("mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := make([]byte, 500)
	for i := range long {
		long[i] = 'a'
	}
	if got := mask(string(long)); len(got) > 204 {
		t.Errorf("mask of 500 bytes has %d bytes", len(got))
	}
}
