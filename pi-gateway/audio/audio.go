// Package audio moves speech between the phone's hybrid circuit (a USB sound
// card) and the network side, as 8 kHz mono 16-bit frames of 20 ms.
package audio

import (
	"context"
	"fmt"
	"time"
)

// Network-side format: what RTP with G.711 carries.
const (
	SampleRate = 8000
	FrameTime  = 20 * time.Millisecond
	// FrameSamples is the samples in one frame (160).
	// (In Durations: an int product would overflow on 32-bit arm.)
	FrameSamples = int(SampleRate * FrameTime / time.Second)
)

// Device is a full-duplex audio device. Read blocks until a whole frame of
// FrameSamples samples was captured; Write queues one frame for playout and
// blocks when the device's buffer is full, so a writer paced by Read stays
// in step with the card's clock.
type Device interface {
	Read(ctx context.Context, frame []int16) error
	Write(ctx context.Context, frame []int16) error
	// Latency is the delay the device adds (buffering, resampling), for
	// the receive-to-playout figure.
	Latency() time.Duration
	Close() error
}

// CheckFrame reports a frame that is not FrameSamples long: every Device
// moves whole 20 ms frames.
func CheckFrame(frame []int16) error {
	if len(frame) != FrameSamples {
		return fmt.Errorf("audio: frame of %d samples, want %d", len(frame), FrameSamples)
	}
	return nil
}
