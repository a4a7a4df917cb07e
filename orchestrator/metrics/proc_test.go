package metrics

import (
	"math"
	"testing"
)

func TestParseProcStat(t *testing.T) {
	// Field 2, the command name, holds spaces and parentheses.
	line := "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 9 0 98765 123456789 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	st, err := parseProcStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{utime: 250, stime: 75, starttime: 98765, vsize: 123456789, rss: 2048}
	if st != want {
		t.Fatalf("parsed %+v, want %+v", st, want)
	}
	for _, bad := range []string{"", "4242 no-parens S 1", "1 (x) S 1 2 3", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 x 75 0 0 20 0 9 0 98765 1 2 3"} {
		if _, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("parseProcStat(%q) succeeded", bad)
		}
	}
}

func TestParseMaxOpenFiles(t *testing.T) {
	limits := "Limit                     Soft Limit           Hard Limit           Units\n" +
		"Max cpu time              unlimited            unlimited            seconds\n" +
		"Max open files            1024                 524288               files\n"
	if v, ok := parseMaxOpenFiles([]byte(limits)); !ok || v != 1024 {
		t.Errorf("max open files = %v %v, want 1024", v, ok)
	}
	if v, ok := parseMaxOpenFiles([]byte("Max open files            unlimited            unlimited            files\n")); !ok || !math.IsInf(v, 1) {
		t.Errorf("unlimited = %v %v", v, ok)
	}
	if _, ok := parseMaxOpenFiles([]byte("Max processes 10 10 processes\n")); ok {
		t.Error("found a limit that is not there")
	}
}
