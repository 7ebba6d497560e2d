package file

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrFormat is wrapped by every error about a WAV file's contents.
var ErrFormat = errors.New("wav: unsupported or damaged file")

// Wave is decoded PCM audio.
type Wave struct {
	Rate     int
	Channels int
	Samples  []int16 // interleaved when Channels > 1
}

// MaxDataBytes bounds the audio DecodeWAV accepts (about 1 h at 8 kHz, or
// 10 min at 48 kHz stereo), so a damaged header cannot exhaust memory.
const MaxDataBytes = 64 << 20

const (
	formatPCM        = 1
	formatExtensible = 0xFFFE
)

// DecodeWAV reads a RIFF/WAVE file of 16-bit PCM (plain or extensible).
func DecodeWAV(r io.Reader) (*Wave, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrFormat, err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: not RIFF/WAVE", ErrFormat)
	}
	var w *Wave
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if w != nil && errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%w: no data chunk", ErrFormat)
			}
			return nil, fmt.Errorf("%w: chunk header: %w", ErrFormat, err)
		}
		id, size := string(ch[0:4]), binary.LittleEndian.Uint32(ch[4:8])
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				return nil, fmt.Errorf("%w: fmt chunk of %d bytes", ErrFormat, size)
			}
			b := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, b); err != nil {
				return nil, fmt.Errorf("%w: fmt chunk: %w", ErrFormat, err)
			}
			format := binary.LittleEndian.Uint16(b[0:2])
			if format == formatExtensible && size >= 26 {
				format = binary.LittleEndian.Uint16(b[24:26]) // the sub-format GUID starts with it
			}
			chans := int(binary.LittleEndian.Uint16(b[2:4]))
			rate := int(binary.LittleEndian.Uint32(b[4:8]))
			bits := binary.LittleEndian.Uint16(b[14:16])
			switch {
			case format != formatPCM:
				return nil, fmt.Errorf("%w: format %d is not PCM", ErrFormat, format)
			case bits != 16:
				return nil, fmt.Errorf("%w: %d bits per sample, want 16", ErrFormat, bits)
			case chans < 1 || chans > 8:
				return nil, fmt.Errorf("%w: %d channels", ErrFormat, chans)
			case rate < 1000 || rate > 384000:
				return nil, fmt.Errorf("%w: sample rate %d", ErrFormat, rate)
			}
			w = &Wave{Rate: rate, Channels: chans}
		case "data":
			if w == nil {
				return nil, fmt.Errorf("%w: data before fmt", ErrFormat)
			}
			limit := int64(size)
			if size == 0 || size == 0xFFFFFFFF {
				// A stream written live, its size never filled in: take
				// what is there.
				limit = MaxDataBytes + 1
			}
			b, err := io.ReadAll(io.LimitReader(r, limit))
			if err != nil {
				return nil, fmt.Errorf("%w: data: %w", ErrFormat, err)
			}
			if len(b) > MaxDataBytes {
				return nil, fmt.Errorf("%w: more than %d bytes of audio", ErrFormat, MaxDataBytes)
			}
			frame := 2 * w.Channels
			b = b[:len(b)/frame*frame]
			w.Samples = make([]int16, len(b)/2)
			for i := range w.Samples {
				w.Samples[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
			}
			return w, nil
		default:
			if size > MaxDataBytes {
				return nil, fmt.Errorf("%w: %q chunk of %d bytes", ErrFormat, id, size)
			}
			if _, err := io.CopyN(io.Discard, r, int64(size+size%2)); err != nil {
				return nil, fmt.Errorf("%w: %q chunk: %w", ErrFormat, id, err)
			}
		}
	}
}

// Mono mixes the channels down to one.
func (w *Wave) Mono() []int16 {
	if w.Channels == 1 {
		return w.Samples
	}
	out := make([]int16, len(w.Samples)/w.Channels)
	for i := range out {
		sum := 0
		for c := range w.Channels {
			sum += int(w.Samples[i*w.Channels+c])
		}
		out[i] = int16(sum / w.Channels)
	}
	return out
}

// WAVWriter writes 16-bit mono PCM; Close fixes the sizes in the header.
type WAVWriter struct {
	w     io.WriteSeeker
	bytes uint32
	buf   []byte
}

// NewWAVWriter writes a header for rate Hz mono to w.
func NewWAVWriter(w io.WriteSeeker, rate int) (*WAVWriter, error) {
	var h [44]byte
	copy(h[0:], "RIFF")
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], formatPCM)
	binary.LittleEndian.PutUint16(h[22:], 1)
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*2))
	binary.LittleEndian.PutUint16(h[32:], 2)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	if _, err := w.Write(h[:]); err != nil {
		return nil, fmt.Errorf("wav: header: %w", err)
	}
	return &WAVWriter{w: w}, nil
}

// Write appends samples.
func (ww *WAVWriter) Write(samples []int16) error {
	ww.buf = ww.buf[:0]
	for _, s := range samples {
		ww.buf = binary.LittleEndian.AppendUint16(ww.buf, uint16(s))
	}
	if _, err := ww.w.Write(ww.buf); err != nil {
		return fmt.Errorf("wav: write: %w", err)
	}
	ww.bytes += uint32(len(ww.buf))
	return nil
}

// Close writes the final sizes into the header; it does not close the
// underlying writer.
func (ww *WAVWriter) Close() error {
	var b [4]byte
	for _, f := range []struct {
		off  int64
		size uint32
	}{{4, 36 + ww.bytes}, {40, ww.bytes}} {
		binary.LittleEndian.PutUint32(b[:], f.size)
		if _, err := ww.w.Seek(f.off, io.SeekStart); err != nil {
			return fmt.Errorf("wav: seek: %w", err)
		}
		if _, err := ww.w.Write(b[:]); err != nil {
			return fmt.Errorf("wav: size: %w", err)
		}
	}
	_, err := ww.w.Seek(0, io.SeekEnd)
	return err
}
