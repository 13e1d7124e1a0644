package conf

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sizeUnits are the suffixes of a size, powers of 1024, largest first (the
// order FormatSize tries them).
var sizeUnits = []struct {
	suffix string
	mul    int64
}{{"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}}

// ParseSize reads a number of bytes: digits with an optional suffix K, M, G
// or T (powers of 1024; "KiB" ... "TiB" too, any case), such as 500M or 10G.
func ParseSize(s string) (int64, error) {
	digits, mul := s, int64(1)
	for _, u := range sizeUnits {
		if rest, ok := cutSuffixFold(s, u.suffix); ok {
			digits, mul = rest, u.mul
			break
		}
		if rest, ok := cutSuffixFold(s, u.suffix+"iB"); ok {
			digits, mul = rest, u.mul
			break
		}
	}
	if digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, fmt.Errorf("size %q: want a number of bytes with an optional K, M, G or T (powers of 1024), such as 500M or 10G", clip(s))
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > math.MaxInt64/mul {
		return 0, fmt.Errorf("size %q is too large", clip(s))
	}
	return n * mul, nil
}

// FormatSize writes n bytes as ParseSize reads them, in the largest unit
// that keeps it exact: 10G, 1536M, 1000.
func FormatSize(n int64) string {
	for _, u := range sizeUnits {
		if n != 0 && n%u.mul == 0 {
			return strconv.FormatInt(n/u.mul, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// cutSuffixFold is strings.CutSuffix ignoring case, byte for byte (ToUpper
// would change the length of invalid UTF-8).
func cutSuffixFold(s, suffix string) (string, bool) {
	if n := len(s) - len(suffix); n >= 0 && strings.EqualFold(s[n:], suffix) {
		return s[:n], true
	}
	return s, false
}
