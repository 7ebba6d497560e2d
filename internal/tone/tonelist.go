package tone

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Segment is one item of a tonelist: up to two frequencies, added or with
// the second modulating the first, for a duration.
type Segment struct {
	Freq1, Freq2 float64 // Hz; 0 is silence
	// Modulate is Asterisk's "*": Freq1 amplitude-modulated by Freq2, as the
	// Japanese ringback (400 Hz by 16 Hz). Otherwise the two are added.
	Modulate bool
	// Duration 0 means the segment lasts until the tone is stopped.
	Duration time.Duration
	// Once marks Asterisk's "!": played on the first pass only, not repeated.
	Once bool
}

// maxSegments bounds a tonelist; Asterisk's longest sample has 13 items.
const maxSegments = 64

// ParseList parses an Asterisk tonelist such as "400*16/1000,0/2000" or
// "!350+440/100,!0/100,350+440" (see main/indications.c). Frequencies are
// limited to 0–20000 Hz and durations to 0–60000 ms; MIDI note syntax is not
// accepted.
func ParseList(s string) ([]Segment, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("tonelist is empty")
	}
	items := strings.Split(s, ",")
	if len(items) > maxSegments {
		return nil, fmt.Errorf("tonelist has %d items, more than %d", len(items), maxSegments)
	}
	out := make([]Segment, 0, len(items))
	for i, item := range items {
		seg, err := parseSegment(strings.TrimSpace(item))
		if err != nil {
			return nil, fmt.Errorf("tonelist item %d %q: %w", i+1, item, err)
		}
		out = append(out, seg)
	}
	return out, nil
}

func parseSegment(item string) (Segment, error) {
	var seg Segment
	if rest, ok := strings.CutPrefix(item, "!"); ok {
		seg.Once, item = true, rest
	}
	freqs, dur, hasDur := strings.Cut(item, "/")
	if hasDur {
		ms, err := strconv.ParseUint(dur, 10, 32)
		if err != nil || ms > 60000 {
			return seg, fmt.Errorf("duration %q is not a number of milliseconds from 0 to 60000", dur)
		}
		seg.Duration = time.Duration(ms) * time.Millisecond
	}
	f1, f2, sep := freqs, "", ""
	if i := strings.IndexAny(freqs, "+*"); i >= 0 {
		f1, f2, sep = freqs[:i], freqs[i+1:], freqs[i:i+1]
	}
	var err error
	if seg.Freq1, err = parseFreq(f1); err != nil {
		return seg, err
	}
	if sep != "" {
		if seg.Freq2, err = parseFreq(f2); err != nil {
			return seg, err
		}
		seg.Modulate = sep == "*"
	}
	return seg, nil
}

func parseFreq(s string) (float64, error) {
	f, err := strconv.ParseUint(s, 10, 32)
	if err != nil || f > 20000 {
		return 0, fmt.Errorf("frequency %q is not a whole number of hertz from 0 to 20000", s)
	}
	return float64(f), nil
}
