package file_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/audio"
	"github.com/kurodenwa/kurodenwa/pi-gateway/audio/file"
	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
)

// wavBytes builds a WAV file by hand, with an extra chunk before data.
func wavBytes(rate, chans, bits, format int, samples []int16) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	data := new(bytes.Buffer)
	for _, s := range samples {
		_ = binary.Write(data, le, s)
	}
	b.WriteString("RIFF")
	_ = binary.Write(&b, le, uint32(0))
	b.WriteString("WAVEfmt ")
	_ = binary.Write(&b, le, uint32(16))
	_ = binary.Write(&b, le, uint16(format))
	_ = binary.Write(&b, le, uint16(chans))
	_ = binary.Write(&b, le, uint32(rate))
	_ = binary.Write(&b, le, uint32(rate*chans*bits/8))
	_ = binary.Write(&b, le, uint16(chans*bits/8))
	_ = binary.Write(&b, le, uint16(bits))
	b.WriteString("LIST")
	_ = binary.Write(&b, le, uint32(3))
	b.WriteString("abc\x00") // odd size, padded
	b.WriteString("data")
	_ = binary.Write(&b, le, uint32(data.Len()))
	b.Write(data.Bytes())
	return b.Bytes()
}

func TestDecodeWAV(t *testing.T) {
	w, err := file.DecodeWAV(bytes.NewReader(wavBytes(8000, 2, 16, 1, []int16{100, 300, -100, -300, 7})))
	require.NoError(t, err)
	assert.Equal(t, 8000, w.Rate)
	assert.Equal(t, []int16{200, -200}, w.Mono(), "stereo mixed down; the odd sample dropped")

	bad := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "header"},
		{"not wave", []byte("RIFF\x00\x00\x00\x00AVI LIST"), "not RIFF/WAVE"},
		{"8 bit", wavBytes(8000, 1, 8, 1, nil), "8 bits"},
		{"float", wavBytes(8000, 1, 16, 3, nil), "not PCM"},
		{"rate", wavBytes(10, 1, 16, 1, nil), "sample rate"},
		{"channels", wavBytes(8000, 0, 16, 1, nil), "channels"},
		{"no data", wavBytes(8000, 1, 16, 1, nil)[:48], "no data chunk"},
		{"data first", []byte("RIFF\x00\x00\x00\x00WAVEdata\x00\x00\x00\x00"), "data before fmt"},
	}
	for _, tt := range bad {
		_, err := file.DecodeWAV(bytes.NewReader(tt.data))
		require.ErrorIs(t, err, file.ErrFormat, tt.name)
		assert.Contains(t, err.Error(), tt.want, tt.name)
	}
}

func FuzzDecodeWAV(f *testing.F) {
	f.Add(wavBytes(8000, 1, 16, 1, []int16{1, 2, 3}))
	f.Add(wavBytes(48000, 2, 16, 1, []int16{1, 2, 3, 4}))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt \xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := file.DecodeWAV(bytes.NewReader(data))
		if err != nil {
			return
		}
		if w.Channels < 1 || len(w.Samples)%w.Channels != 0 || len(w.Samples)*2 > len(data) {
			t.Fatalf("bad wave %d channels, %d samples from %d bytes", w.Channels, len(w.Samples), len(data))
		}
		_ = w.Mono()
	})
}

func TestLoopAndSilence(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.wav")
	samples := make([]int16, 100)
	for i := range samples {
		samples[i] = int16(i + 1)
	}
	require.NoError(t, os.WriteFile(in, wavBytes(8000, 1, 16, 1, samples), 0o600))
	ctx := context.Background()
	frame := make([]int16, audio.FrameSamples)

	d, err := file.Open(file.Config{Input: in, Loop: true}, nil)
	require.NoError(t, err)
	require.NoError(t, d.Read(ctx, frame))
	assert.Equal(t, int16(100), frame[99])
	assert.Equal(t, int16(1), frame[100], "looped")
	require.NoError(t, d.Close())

	d, err = file.Open(file.Config{Input: in}, nil)
	require.NoError(t, err)
	require.NoError(t, d.Read(ctx, frame))
	assert.Equal(t, int16(100), frame[99])
	assert.Equal(t, int16(0), frame[100], "silence after the end")
	assert.Error(t, d.Read(ctx, frame[:1]))
}

func TestResampledInput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in48k.wav")
	samples := make([]int16, 48000)
	for i := range samples {
		samples[i] = 10000
	}
	require.NoError(t, os.WriteFile(in, wavBytes(48000, 1, 16, 1, samples), 0o600))
	d, err := file.Open(file.Config{Input: in}, nil)
	require.NoError(t, err)
	frame := make([]int16, audio.FrameSamples)
	for range 10 {
		require.NoError(t, d.Read(context.Background(), frame))
	}
	assert.InDelta(t, 10000, frame[80], 50, "DC survives 48→8 kHz")
}

func TestWriteOutput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.wav")
	clk := clock.NewManual(time.Unix(0, 0))
	d, err := file.Open(file.Config{Output: out, Realtime: true}, clk)
	require.NoError(t, err)
	frame := make([]int16, audio.FrameSamples)
	frame[0] = 1234
	require.NoError(t, d.Write(context.Background(), frame)) // the first frame is due at once
	assert.Error(t, d.Write(context.Background(), frame[:3]))
	require.NoError(t, d.Close())
	require.NoError(t, d.Close())

	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	w, err := file.DecodeWAV(f)
	require.NoError(t, err)
	assert.Equal(t, 8000, w.Rate)
	require.Len(t, w.Samples, audio.FrameSamples)
	assert.Equal(t, int16(1234), w.Samples[0])
	assert.Zero(t, d.Latency())
}

func TestOpenErrors(t *testing.T) {
	_, err := file.Open(file.Config{Input: "/nonexistent/in.wav"}, nil)
	assert.ErrorContains(t, err, "/nonexistent/in.wav")
	_, err = file.Open(file.Config{Output: "/nonexistent/out.wav"}, nil)
	assert.ErrorContains(t, err, "/nonexistent/out.wav")
	bad := filepath.Join(t.TempDir(), "bad.wav")
	require.NoError(t, os.WriteFile(bad, []byte("nope"), 0o600))
	_, err = file.Open(file.Config{Input: bad}, nil)
	assert.ErrorIs(t, err, file.ErrFormat)
}
