package atline_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/atline"
)

// readAll returns every line and line error until the stream ends, with
// errors rendered as "!" plus the sentinel's text.
func readAll(t *testing.T, r io.Reader) ([]string, error) {
	t.Helper()
	lr := atline.NewReader(r)
	var out []string
	for range 1000 {
		line, err := lr.ReadLine()
		var se *atline.SyntaxError
		switch {
		case errors.As(err, &se):
			out = append(out, "!"+se.Err.Error())
		case err != nil:
			return out, err
		default:
			out = append(out, string(line))
		}
	}
	t.Fatal("reader does not end")
	return nil, nil
}

func TestReaderSplitting(t *testing.T) {
	long := strings.Repeat("X", 70)
	tests := []struct {
		name string
		in   string
		want []string
		err  error
	}{
		{"LF", "OK\nONHOOK\n", []string{"OK", "ONHOOK"}, io.EOF},
		{"CR", "OK\rONHOOK\r", []string{"OK", "ONHOOK"}, io.EOF},
		{"CRLF", "OK\r\nONHOOK\r\n", []string{"OK", "ONHOOK"}, io.EOF},
		{"mixed and blank", "\r\n\nOK\n\r\r\nFLASH\r\n\r\n", []string{"OK", "FLASH"}, io.EOF},
		{"LFCR counts twice, the blank is skipped", "OK\n\rFLASH\n\r", []string{"OK", "FLASH"}, io.EOF},
		{"cut short", "OK\r\nDIG", []string{"OK"}, io.ErrUnexpectedEOF},
		{"exactly the limit", strings.Repeat("Y", 64) + "\n", []string{strings.Repeat("Y", 64)}, io.EOF},
		{"overlong", long + "\r\nOK\r\n", []string{"!line longer than 64 bytes", "OK"}, io.EOF},
		{"overlong with noise", long + "\x00\xff" + long + "\nOK\n", []string{"!line longer than 64 bytes", "OK"}, io.EOF},
		{"reset noise before banner", "\xff\x00\xfeREADY 1.0\r\n", []string{"!control character or non-ASCII byte", "READY 1.0"}, io.EOF},
		{"noise mid line", "OFFH\x00\x00OOK\r\nOK\n", []string{"!control character or non-ASCII byte", "OOK", "OK"}, io.EOF},
		{"noise at line end", "OK\x07\r\nOK\n", []string{"!control character or non-ASCII byte", "OK"}, io.EOF},
		{"long noise", strings.Repeat("\xff", 500) + "\nOK\n", []string{"!control character or non-ASCII byte", "OK"}, io.EOF},
		{"noise at the end", "OK\n\x00", []string{"OK"}, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tt.in), iotest.OneByteReader(strings.NewReader(tt.in)), iotest.DataErrReader(strings.NewReader(tt.in))} {
				got, err := readAll(t, r)
				assert.Equal(t, tt.want, got)
				assert.ErrorIs(t, err, tt.err)
			}
		})
	}
}

func TestReaderErrorsAreSticky(t *testing.T) {
	boom := errors.New("boom")
	r := atline.NewReader(io.MultiReader(strings.NewReader("OK\n"), iotest.ErrReader(boom)))
	line, err := r.ReadLine()
	require.NoError(t, err)
	assert.Equal(t, "OK", string(line))
	for range 3 {
		_, err = r.ReadLine()
		require.ErrorIs(t, err, boom)
	}
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

func TestReaderNoProgress(t *testing.T) {
	_, err := atline.NewReader(emptyReader{}).ReadLine()
	require.ErrorIs(t, err, io.ErrNoProgress)
}

func TestReadMessage(t *testing.T) {
	r := atline.NewReader(strings.NewReader("  \r\nDIGIT 3\r\nBOGUS\r\nOK\r\n"))
	m, err := r.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, atline.Message{Kind: atline.KindDigit, Digit: 3}, m)
	_, err = r.ReadMessage()
	require.ErrorIs(t, err, atline.ErrUnknownWord)
	m, err = r.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, atline.KindOK, m.Kind)
	_, err = r.ReadMessage()
	require.ErrorIs(t, err, io.EOF)
}
