package media

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The RTP socket reads without waiting, says where each datagram came
// from and when it arrived, and sends to IPv4 and IPv6 peers.
func TestRTPSocket(t *testing.T) {
	for _, tc := range []struct {
		name string
		ip   string
	}{
		{"ipv4", "127.0.0.1"},
		{"ipv6", "::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ip := netip.MustParseAddr(tc.ip)
			s, err := bindRTP(ip, 0, 0)
			if err != nil && ip.Is6() {
				t.Skipf("skipping: no IPv6 loopback: %v", err)
			}
			require.NoError(t, err)
			defer s.close()
			assert.Equal(t, ip, s.localAddr().Addr())
			assert.NotZero(t, s.localAddr().Port())

			buf := make([]byte, 2048)
			_, _, _, err = s.recv(buf)
			assert.ErrorIs(t, err, errWouldBlock, "nothing queued")

			peer, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
			require.NoError(t, err)
			defer peer.Close()
			peerAddr := peer.LocalAddr().(*net.UDPAddr).AddrPort()
			before := time.Now()
			_, err = peer.WriteToUDPAddrPort([]byte("hello"), s.localAddr())
			require.NoError(t, err)

			var n int
			var from netip.AddrPort
			var at time.Time
			deadline := time.Now().Add(5 * time.Second)
			for {
				n, from, at, err = s.recv(buf)
				if err != errWouldBlock || time.Now().After(deadline) {
					break
				}
				time.Sleep(time.Millisecond)
			}
			require.NoError(t, err)
			assert.Equal(t, "hello", string(buf[:n]))
			assert.Equal(t, peerAddr, from)
			assert.False(t, at.Before(before.Add(-time.Millisecond)), "arrival %v is before the send at %v", at, before)
			assert.False(t, at.After(time.Now()), "arrival is in the future")

			require.NoError(t, s.send([]byte("back"), peerAddr))
			require.NoError(t, peer.SetReadDeadline(time.Now().Add(5*time.Second)))
			n, got, err := peer.ReadFromUDPAddrPort(buf)
			require.NoError(t, err)
			assert.Equal(t, "back", string(buf[:n]))
			assert.Equal(t, s.localAddr(), netip.AddrPortFrom(got.Addr().Unmap(), got.Port()))
		})
	}
}

// The port is free again after Close, started or not, and after the
// context ends.
func TestSessionFreesPort(t *testing.T) {
	rebind := func(a netip.AddrPort) error {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(a))
		if err == nil {
			c.Close()
		}
		return err
	}
	for _, tc := range []struct {
		name string
		stop func(s *Session)
	}{
		{"close unstarted", func(s *Session) { s.Close() }},
		{"close started", func(s *Session) { s.Start(context.Background()); s.Close() }},
		{"context ends", func(s *Session) {
			ctx, cancel := context.WithCancel(context.Background())
			s.Start(ctx)
			cancel()
			<-s.Done()
			s.Close()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSession(Config{LocalIP: loopback}, nil)
			require.NoError(t, err)
			tc.stop(s)
			assert.NoError(t, rebind(s.LocalAddr()))
			s.Start(context.Background()) // after Close: does nothing
			assert.NoError(t, s.Close())
		})
	}
}
