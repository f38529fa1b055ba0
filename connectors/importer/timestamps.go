package importer

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Excel serial dates count days since 1899-12-30 (the day Excel's 1900
// leap-year bug lands on). Serials before 1970 are refused: a bare number
// such as 2026 is more likely a mistake than a date in 1905.
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

const (
	minSerial = 25569   // 1970-01-01
	maxSerial = 2958466 // 10000-01-01
)

// layouts are the spreadsheet forms read as UTC, besides RFC 3339.
var layouts = []string{
	"2006-01-02",
	"2006-01-02 15:04",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02T15:04:05",
}

// parseTimestamp reads one timestamp cell: RFC 3339, a spreadsheet form
// (UTC), or an Excel serial date. Day/month forms are refused, never
// guessed (see docs/import.md).
func parseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	// Only a layout that can match is tried: a failed time.Parse builds
	// an error, the larger part of reading 100,000 dates otherwise.
	// RFC 3339 is at least 20 bytes (2006-01-02T15:04:05Z); the
	// spreadsheet forms are told apart by length and the separator after
	// the date.
	if len(s) >= 20 {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC(), nil
		}
	}
	for _, l := range layouts {
		if len(s) == len(l) && (len(l) <= 10 || s[10] == l[10]) {
			if t, err := time.Parse(l, s); err == nil {
				return t, nil
			}
		}
	}
	if isSerial(s) {
		f, err := strconv.ParseFloat(s, 64)
		if err == nil && f >= minSerial && f < maxSerial {
			days := math.Floor(f)
			secs := math.Round((f - days) * 86400)
			return excelEpoch.AddDate(0, 0, int(days)).Add(time.Duration(secs) * time.Second), nil
		}
		return time.Time{}, fmt.Errorf("%q is not a date: as an Excel serial date it is before 1970 or after 9999; write it as YYYY-MM-DD", s)
	}
	if dayMonth(s) {
		return time.Time{}, fmt.Errorf("%q could be day/month or month/day, and nhi never guesses: write it as YYYY-MM-DD (e.g. 2026-02-01)", s)
	}
	return time.Time{}, fmt.Errorf("%q is not a timestamp nhi reads: use RFC 3339 (2026-11-30T14:05:00Z), 2026-11-30, 2026-11-30 14:05, or an Excel serial date", s)
}

func isSerial(s string) bool {
	if s == "" {
		return false
	}
	dot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 0:
			dot = true
		default:
			return false
		}
	}
	return true
}

// dayMonth reports whether s starts like 01/02/2026, 1.2.26 or 01-02-2026:
// two numbers before the year, in an order the cell does not state.
func dayMonth(s string) bool {
	for _, sep := range []string{"/", ".", "-"} {
		parts := strings.Split(strings.Fields(s + " ")[0], sep)
		if len(parts) != 3 {
			continue
		}
		ok := true
		for i, p := range parts {
			if _, err := strconv.Atoi(p); err != nil || p == "" || (i < 2 && len(p) > 2) {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}
