package media

import (
	"fmt"
	"math"
	"strings"

	"github.com/zaf/g711"
)

// Codec is a G.711 payload format, named by its static RTP payload type.
type Codec uint8

// The codecs the gateway speaks: what Twilio and Asterisk both offer.
const (
	PCMU Codec = 0 // G.711 μ-law
	PCMA Codec = 8 // G.711 A-law
)

func (c Codec) String() string {
	switch c {
	case PCMU:
		return "PCMU"
	case PCMA:
		return "PCMA"
	}
	return fmt.Sprintf("Codec(%d)", uint8(c))
}

// PayloadType is the codec's static RTP payload type.
func (c Codec) PayloadType() uint8 { return uint8(c) }

func (c Codec) valid() bool { return c == PCMU || c == PCMA }

// codecByName maps an rtpmap encoding name to a codec.
func codecByName(name string, rate int) (Codec, bool) {
	if rate != 8000 {
		return 0, false
	}
	switch {
	case strings.EqualFold(name, "PCMU"):
		return PCMU, true
	case strings.EqualFold(name, "PCMA"):
		return PCMA, true
	}
	return 0, false
}

// Encode appends pcm encoded with c to dst (one byte a sample).
func (c Codec) Encode(dst []byte, pcm []int16) []byte {
	if c == PCMA {
		for _, s := range pcm {
			dst = append(dst, g711.EncodeAlawFrame(s))
		}
		return dst
	}
	for _, s := range pcm {
		dst = append(dst, g711.EncodeUlawFrame(s))
	}
	return dst
}

// Decode writes payload decoded with c to dst, which must hold
// len(payload) samples, and returns the samples written.
func (c Codec) Decode(dst []int16, payload []byte) int {
	n := min(len(dst), len(payload))
	if c == PCMA {
		for i := range n {
			dst[i] = g711.DecodeAlawFrame(payload[i])
		}
		return n
	}
	for i := range n {
		dst[i] = g711.DecodeUlawFrame(payload[i])
	}
	return n
}

// Gain is a linear factor made from decibels, applied with clipping. The
// zero Gain, like 1, leaves audio as it is.
type Gain float64

// GainDB converts decibels to a Gain; 0 dB is unity.
func GainDB(db float64) Gain {
	if math.IsNaN(db) || math.IsInf(db, 0) {
		return 1
	}
	return Gain(math.Pow(10, db/20))
}

// Apply scales pcm in place.
func (g Gain) Apply(pcm []int16) {
	if g == 1 || g == 0 {
		return
	}
	f := float64(g)
	for i, s := range pcm {
		v := float64(s) * f
		switch {
		case v > math.MaxInt16:
			pcm[i] = math.MaxInt16
		case v < math.MinInt16:
			pcm[i] = math.MinInt16
		default:
			pcm[i] = int16(math.Round(v))
		}
	}
}
