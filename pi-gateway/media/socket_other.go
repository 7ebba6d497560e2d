//go:build !linux || 386 || rtpportable

package media

import (
	"errors"
	"net"
	"net/netip"
	"time"
)

// rtpSocket is the RTP port. Elsewhere than Linux (where the gateway
// runs), or built with the tag rtpportable (to test this on Linux), it is
// a UDP socket read by a goroutine of its own, which hands datagrams to
// the session's clock goroutine; arrival times are taken when that
// goroutine reads them.
type rtpSocket struct {
	conn  *net.UDPConn
	local netip.AddrPort
	in    chan datagram
	free  chan []byte
}

type datagram struct {
	b    []byte
	from netip.AddrPort
	at   time.Time
}

// errWouldBlock says the socket holds no datagram now.
var errWouldBlock = errors.New("media: no datagram queued")

// socketQueue is how many received datagrams may wait for the clock
// goroutine: over a second of 20 ms packets.
const socketQueue = 64

func bindRTP(ip netip.Addr, lo, hi int) (*rtpSocket, error) {
	conn, err := listenRTP(ip, lo, hi)
	if err != nil {
		return nil, err
	}
	l := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	s := &rtpSocket{
		conn:  conn,
		local: netip.AddrPortFrom(l.Addr().Unmap(), l.Port()),
		in:    make(chan datagram, socketQueue),
		free:  make(chan []byte, socketQueue),
	}
	go s.readLoop()
	return s, nil
}

func listenRTP(ip netip.Addr, lo, hi int) (*net.UDPConn, error) {
	return bindPort(ip, lo, hi, func(ip netip.Addr, port uint16) (*net.UDPConn, error) {
		return net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, port)))
	})
}

// readLoop queues datagrams until the socket closes; a full queue drops
// them, as a full kernel buffer would.
func (s *rtpSocket) readLoop() {
	defer close(s.in)
	for {
		var b []byte
		select {
		case b = <-s.free:
		default:
			b = make([]byte, 2048)
		}
		n, from, err := s.conn.ReadFromUDPAddrPort(b[:cap(b)])
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ICMP errors surface here on some systems
		}
		select {
		case s.in <- datagram{b: b[:n], from: from, at: time.Now()}:
		default:
		}
	}
}

func (s *rtpSocket) localAddr() netip.AddrPort { return s.local }

func (s *rtpSocket) close() error { return s.conn.Close() }

func (s *rtpSocket) send(b []byte, to netip.AddrPort) error {
	_, err := s.conn.WriteToUDPAddrPort(b, to)
	return err
}

// recv copies one queued datagram into b without waiting: errWouldBlock
// when none is queued.
func (s *rtpSocket) recv(b []byte) (int, netip.AddrPort, time.Time, error) {
	select {
	case d, ok := <-s.in:
		if !ok {
			return 0, netip.AddrPort{}, time.Time{}, net.ErrClosed
		}
		n := copy(b, d.b)
		select {
		case s.free <- d.b:
		default:
		}
		return n, d.from, d.at, nil
	default:
		return 0, netip.AddrPort{}, time.Time{}, errWouldBlock
	}
}
