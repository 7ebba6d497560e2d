// Package tone holds the call-progress tone plans of each country, written in
// Asterisk's tonelist syntax so that one definition feeds indications.conf
// on the PBX and the tone generator of the telephone Pi.
package tone

import (
	"fmt"
	"slices"
	"sort"
)

// Names of the tones every zone defines. Hangup is kurodenwa's own: the tone
// sent after the far end hangs up while the handset is still off hook.
const (
	Dial        = "dial"
	Busy        = "busy"
	Ring        = "ring"
	Congestion  = "congestion"
	CallWaiting = "callwaiting"
	DialRecall  = "dialrecall"
	Record      = "record"
	Info        = "info"
	Stutter     = "stutter"
	Hangup      = "hangup"
)

// Zone is one country's tones.
type Zone struct {
	Name        string
	Description string
	// RingCadence is the ringing signal's on/off pattern in milliseconds.
	RingCadence []int
	// Tones maps a tone name to its Asterisk tonelist.
	Tones map[string]string
}

// Tone returns a tone's tonelist.
func (z Zone) Tone(name string) (string, bool) {
	t, ok := z.Tones[name]
	return t, ok
}

// ToneNames lists the zone's tones in a fixed order: the standard ones
// first, as Asterisk's sample file has them, then any others by name.
func (z Zone) ToneNames() []string {
	order := []string{Dial, Busy, Ring, Congestion, CallWaiting, DialRecall, Record, Info, Stutter, Hangup}
	var out []string
	for _, n := range order {
		if _, ok := z.Tones[n]; ok {
			out = append(out, n)
		}
	}
	var rest []string
	for n := range z.Tones {
		if !slices.Contains(order, n) {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// Lookup returns the zone named name.
func Lookup(name string) (Zone, error) {
	for _, z := range Zones() {
		if z.Name == name {
			return z, nil
		}
	}
	return Zone{}, fmt.Errorf("unknown tone zone %q (known: %v)", name, ZoneNames())
}

// ZoneNames lists the zones this package knows.
func ZoneNames() []string {
	var out []string
	for _, z := range Zones() {
		out = append(out, z.Name)
	}
	return out
}

// Zones returns every known zone. Values follow Asterisk's sample
// indications.conf except where it is wrong: its jp ring "400+15" adds a
// 15 Hz tone, while the Japanese ringback is 400 Hz modulated by 16 Hz
// ("*" modulates in main/indications.c).
func Zones() []Zone {
	return []Zone{
		{
			Name:        "jp",
			Description: "Japan",
			RingCadence: []int{1000, 2000},
			Tones: map[string]string{
				Dial:        "400",
				Busy:        "400/500,0/500",
				Ring:        "400*16/1000,0/2000",
				Congestion:  "400/500,0/500",
				CallWaiting: "400*16/500,0/8000",
				DialRecall:  "!400/200,!0/200,!400/200,!0/200,!400/200,!0/200,400",
				Record:      "1400/500,0/15000",
				Info:        "!950/330,!1400/330,!1800/330,0",
				Stutter:     "!400/100,!0/100,!400/100,!0/100,!400/100,!0/100,!400/100,!0/100,!400/100,!0/100,!400/100,!0/100,400",
				// 終話音: the busy pattern, sent after the far end hangs up.
				Hangup: "400/500,0/500",
			},
		},
		{
			Name:        "us",
			Description: "United States / North America",
			RingCadence: []int{2000, 4000},
			Tones: map[string]string{
				Dial:        "350+440",
				Busy:        "480+620/500,0/500",
				Ring:        "440+480/2000,0/4000",
				Congestion:  "480+620/250,0/250",
				CallWaiting: "440/300,0/10000",
				DialRecall:  "!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440",
				Record:      "1400/500,0/15000",
				Info:        "!950/330,!1400/330,!1800/330,0",
				Stutter:     "!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440",
				// Off-hook warning is the North American custom; the reorder
				// tone is the closest plain tone an ATA sends.
				Hangup: "480+620/250,0/250",
			},
		},
		{
			Name:        "uk",
			Description: "United Kingdom",
			RingCadence: []int{400, 200, 400, 2000},
			Tones: map[string]string{
				Dial:        "350+440",
				Busy:        "400/375,0/375",
				Ring:        "400+450/400,0/200,400+450/400,0/2000",
				Congestion:  "400/400,0/350,400/225,0/525",
				CallWaiting: "400/100,0/4000",
				DialRecall:  "350+440",
				Record:      "1400/500,0/60000",
				Info:        "950/330,0/15,1400/330,0/15,1800/330,0/1000",
				Stutter:     "350+440/750,440/750",
				Hangup:      "400/400,0/350,400/225,0/525",
			},
		},
		{
			Name:        "de",
			Description: "Germany",
			RingCadence: []int{1000, 4000},
			Tones: map[string]string{
				Dial:        "425",
				Busy:        "425/480,0/480",
				Ring:        "425/1000,0/4000",
				Congestion:  "425/240,0/240",
				CallWaiting: "!425/200,!0/200,!425/200,!0/5000,!425/200,!0/200,!425/200,!0/5000,!425/200,!0/200,!425/200,!0/5000,!425/200,!0/200,!425/200,!0/5000,!425/200,!0/200,!425/200,0",
				DialRecall:  "!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,425",
				Record:      "1400/80,0/15000",
				Info:        "950/330,1400/330,1800/330,0/1000",
				Stutter:     "425+400",
				Hangup:      "425/480,0/480",
			},
		},
	}
}
