package osvdb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// timeFields are the record's timestamps: RFC 3339 in the OSV schema, but
// not always in the wild (PYSEC-2024-55, a malware advisory, says
// "1-01-01T00:00:00Z"). A record is never dropped for one.
var timeFields = []string{"modified", "published", "withdrawn"}

// looseTime reads the timestamps that are not strict RFC 3339: a year of
// fewer than four digits, a space for the T, no seconds, no zone (UTC), a
// date alone.
var looseTime = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(\d{1,4})-(\d{1,2})-(\d{1,2})(?:[Tt ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(\.\d{1,9})?)?)? ?(Z|z|UTC|[+-]\d{2}:?\d{2})?$`)
})

func strictTime(raw json.RawMessage) bool {
	var t time.Time
	return len(raw) == 0 || bytes.Equal(raw, []byte("null")) || json.Unmarshal(raw, &t) == nil
}

// parseLoose parses a timestamp leniently.
func parseLoose(raw json.RawMessage) (time.Time, bool) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return time.Time{}, false
	}
	m := looseTime().FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, false
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	y, mo, d, h, mi, sec := n(1), n(2), n(3), n(4), n(5), n(6)
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 {
		return time.Time{}, false
	}
	var ns int
	if m[7] != "" {
		f, _ := strconv.ParseFloat("0"+m[7], 64)
		ns = int(f * 1e9)
	}
	loc := time.UTC
	if z := m[8]; z != "" && z != "Z" && z != "z" && z != "UTC" {
		zz := z[1:]
		if len(zz) == 4 {
			zz = zz[:2] + ":" + zz[2:]
		}
		hh, _ := strconv.Atoi(zz[:2])
		mm, _ := strconv.Atoi(zz[3:])
		off := hh*3600 + mm*60
		if z[0] == '-' {
			off = -off
		}
		loc = time.FixedZone("", off)
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, ns, loc).UTC(), true
}

// repairTimes rewrites the timestamps of a record that are not strict RFC
// 3339, so that it is stored and read like any other: a timestamp read
// leniently is written in RFC 3339, one that cannot be read is left out
// (a withdrawn date so lost makes the record apply: reported, not missed).
// It returns the new record and what it did, or data unchanged and nil.
func repairTimes(data []byte, id string) ([]byte, []string, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, nil, err
	}
	var notes []string
	for _, k := range timeFields {
		raw, ok := fields[k]
		if !ok || strictTime(raw) {
			continue
		}
		if t, ok := parseLoose(raw); ok {
			fields[k], _ = json.Marshal(t.Format(time.RFC3339Nano))
			notes = append(notes, fmt.Sprintf("record %s: %s %s is not an RFC 3339 time: read as %s", id, k, raw, t.Format(time.RFC3339Nano)))
		} else {
			delete(fields, k)
			notes = append(notes, fmt.Sprintf("record %s: %s %s is not a time: left out, the record is kept", id, k, raw))
		}
	}
	if len(notes) == 0 {
		return data, nil, nil
	}
	out, err := json.Marshal(fields)
	return out, notes, err
}
