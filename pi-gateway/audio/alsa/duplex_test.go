package alsa

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/audio"
)

func newTestDuplex(t *testing.T) (*duplex, Config) {
	t.Helper()
	cfg := Config{}
	require.NoError(t, cfg.defaults())
	d, err := newDuplex(cfg)
	require.NoError(t, err)
	return d, cfg
}

// TestCardPath plays a 1 kHz tone through Write and the card's playback
// callback, loops it back into capture, and reads it at 8 kHz.
func TestCardPath(t *testing.T) {
	d, cfg := newTestDuplex(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	frame := make([]int16, audio.FrameSamples)
	card := make([]int16, 480) // one 10 ms period at 48 kHz
	var got []int16
	n := 0
	for range 50 {
		for i := range frame {
			frame[i] = int16(10000 * math.Sin(2*math.Pi*1000*float64(n)/8000))
			n++
		}
		require.NoError(t, d.Write(ctx, frame))
		for range 2 {
			d.playback(card)
			d.capture(card) // loopback
		}
		require.NoError(t, d.Read(ctx, frame))
		got = append(got, frame...)
	}
	// After the filters' delay, the tone comes back at full level.
	var sum float64
	for _, v := range got[800:] {
		sum += float64(v) * float64(v)
	}
	rms := math.Sqrt(sum / float64(len(got)-800))
	assert.InDelta(t, 10000/math.Sqrt2, rms, 100)
	over, under := d.Stats()
	assert.Zero(t, over)
	assert.Zero(t, under)
	assert.Greater(t, d.latency(cfg), 50*time.Millisecond)
	assert.Less(t, d.latency(cfg), 60*time.Millisecond)
}

func TestWriteBlocksWhenFullAndCloseWakes(t *testing.T) {
	d, _ := newTestDuplex(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	frame := make([]int16, audio.FrameSamples)
	require.NoError(t, d.Write(ctx, frame))
	require.NoError(t, d.Write(ctx, frame))
	short, cancelShort := context.WithCancel(ctx)
	cancelShort()
	assert.ErrorIs(t, d.Write(short, frame), context.Canceled, "full: waits, here for a cancelled ctx")

	done := make(chan error, 1)
	go func() { done <- d.Read(ctx, frame) }()
	d.close()
	assert.ErrorIs(t, <-done, ErrClosed)
	assert.ErrorIs(t, d.Write(ctx, frame), ErrClosed)
	assert.Error(t, d.Read(ctx, frame[:3]))
	assert.Error(t, d.Write(ctx, frame[:3]))
}

func TestUnderrunAndOverrun(t *testing.T) {
	d, _ := newTestDuplex(t)
	card := make([]int16, 480)
	card[0] = 5
	d.playback(card)
	assert.Zero(t, card[0], "silence when nothing was written")
	for range 120 { // 1.2 s unread
		d.capture(card)
	}
	over, under := d.Stats()
	assert.Positive(t, over)
	assert.Equal(t, 1, under)
}

func TestConfigDefaults(t *testing.T) {
	c := Config{Rate: 22050}
	assert.ErrorContains(t, c.defaults(), "rate 22050")
	_, err := Open(Config{Rate: 1}, nil)
	assert.Error(t, err)
}
