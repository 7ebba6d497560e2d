package silence_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/audio"
	"github.com/kurodenwa/kurodenwa/pi-gateway/audio/silence"
	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
)

func TestSilence(t *testing.T) {
	ctx := context.Background()
	d := silence.New(nil)
	frame := make([]int16, audio.FrameSamples)
	frame[3] = 99
	require.NoError(t, d.Read(ctx, frame))
	assert.Equal(t, make([]int16, audio.FrameSamples), frame)
	require.NoError(t, d.Write(ctx, frame))
	assert.Equal(t, 1, d.Written())
	assert.Error(t, d.Read(ctx, frame[:10]))
	assert.Error(t, d.Write(ctx, frame[:10]))
	assert.Zero(t, d.Latency())
	assert.NoError(t, d.Close())
}

func TestPaced(t *testing.T) {
	clk := clock.NewManual(time.Unix(0, 0))
	d := silence.New(clk)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	frame := make([]int16, audio.FrameSamples)
	require.NoError(t, d.Read(ctx, frame))
	done := make(chan error, 1)
	go func() { done <- d.Read(ctx, frame) }()
	require.NoError(t, clk.WaitForTimers(ctx, 1))
	clk.Advance(audio.FrameTime)
	require.NoError(t, <-done)
}
