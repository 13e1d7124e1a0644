package conf

import (
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{
		{"0", 0}, {"1000", 1000}, {"1K", 1 << 10}, {"500m", 500 << 20}, {"10G", 10 << 30},
		{"10GiB", 10 << 30}, {"2tib", 2 << 40}, {"1536MiB", 1536 << 20}, {"8388607T", 8388607 << 40},
	} {
		got, err := ParseSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
		if tt.want != 0 {
			if back, err := ParseSize(FormatSize(got)); err != nil || back != got {
				t.Errorf("FormatSize(%d) = %q reads back as %d, %v", got, FormatSize(got), back, err)
			}
		}
	}
	for _, bad := range []string{"", "G", "-1G", "1.5G", "10GB", "10 G", "1P", "0x10", "8388608T", "99999999999999999999"} {
		if n, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", bad, n)
		}
	}
	for n, want := range map[int64]string{1: "1", 1000: "1000", 1 << 10: "1K", 1536 << 20: "1536M", 10 << 30: "10G", 3 << 40: "3T", 1<<30 + 1: "1073741825"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
	if _, err := ParseSize("lots"); err == nil || !strings.Contains(err.Error(), "such as 500M or 10G") {
		t.Errorf("error %v", err)
	}
}
