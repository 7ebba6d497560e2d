// Package file is an audio device backed by WAV files: one file is played
// as the microphone (looped, or followed by silence), and what the network
// sends is written to another. It serves demos and tests without a sound
// card, at real-time pace or as fast as the caller goes.
package file

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/kurodenwa/kurodenwa/pi-gateway/audio"
	"github.com/kurodenwa/kurodenwa/pi-gateway/audio/internal/pace"
	"github.com/kurodenwa/kurodenwa/pi-gateway/audio/resample"
	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
)

// Config names the files.
type Config struct {
	Input  string // WAV played as the microphone; "" for silence
	Loop   bool   // start Input again at its end (else silence follows)
	Output string // WAV the received audio is written to; "" to discard
	// Realtime paces Read and Write at one frame per 20 ms on the clock.
	Realtime bool
}

// Device is a file-backed audio.Device.
type Device struct {
	cfg Config

	rmu   sync.Mutex
	in    []int16 // the input at 8 kHz mono
	pos   int
	rpace *pace.Pacer

	wmu   sync.Mutex
	out   *os.File
	wav   *WAVWriter
	wpace *pace.Pacer
}

var _ audio.Device = (*Device)(nil)

// Open reads Input (converting it to 8 kHz mono) and creates Output.
func Open(cfg Config, clk clock.Clock) (*Device, error) {
	if clk == nil {
		clk = clock.Real{}
	}
	d := &Device{cfg: cfg}
	if cfg.Realtime {
		d.rpace = pace.New(clk, audio.FrameTime)
		d.wpace = pace.New(clk, audio.FrameTime)
	}
	if cfg.Input != "" {
		in, err := load(cfg.Input)
		if err != nil {
			return nil, err
		}
		d.in = in
	}
	if cfg.Output != "" {
		f, err := os.Create(cfg.Output)
		if err != nil {
			return nil, fmt.Errorf("audio file: %w", err)
		}
		w, err := NewWAVWriter(f, audio.SampleRate)
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("audio file %s: %w", cfg.Output, err)
		}
		d.out, d.wav = f, w
	}
	return d, nil
}

func load(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audio file: %w", err)
	}
	defer f.Close()
	w, err := DecodeWAV(f)
	if err != nil {
		return nil, fmt.Errorf("audio file %s: %w", path, err)
	}
	mono := w.Mono()
	if w.Rate == audio.SampleRate {
		return mono, nil
	}
	r, err := resample.New(w.Rate, audio.SampleRate)
	if err != nil {
		return nil, fmt.Errorf("audio file %s: %w", path, err)
	}
	return r.Process(make([]int16, 0, r.OutLen(len(mono))), mono), nil
}

// Read returns the next 20 ms of the input.
func (d *Device) Read(ctx context.Context, frame []int16) error {
	if err := audio.CheckFrame(frame); err != nil {
		return err
	}
	d.rmu.Lock()
	defer d.rmu.Unlock()
	if err := d.rpace.Wait(ctx); err != nil {
		return err
	}
	n := 0
	for n < len(frame) {
		if d.pos >= len(d.in) {
			if !d.cfg.Loop || len(d.in) == 0 {
				break
			}
			d.pos = 0
		}
		c := copy(frame[n:], d.in[d.pos:])
		n += c
		d.pos += c
	}
	clear(frame[n:])
	return nil
}

// Write appends the frame to Output.
func (d *Device) Write(ctx context.Context, frame []int16) error {
	if err := audio.CheckFrame(frame); err != nil {
		return err
	}
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if err := d.wpace.Wait(ctx); err != nil {
		return err
	}
	if d.wav == nil {
		return nil
	}
	return d.wav.Write(frame)
}

// Latency is zero: nothing is buffered.
func (d *Device) Latency() time.Duration { return 0 }

// Close finishes the output file.
func (d *Device) Close() error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if d.out == nil {
		return nil
	}
	err := errors.Join(d.wav.Close(), d.out.Close())
	d.out, d.wav = nil, nil
	if err != nil {
		return fmt.Errorf("audio file %s: %w", d.cfg.Output, err)
	}
	return nil
}
