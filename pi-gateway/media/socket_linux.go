//go:build linux && !386 && !rtpportable

package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// rtpSocket is the RTP port as a plain non-blocking socket, kept out of
// Go's network poller: the session's clock goroutine drains it once a
// frame, so a received packet wakes no goroutine and no thread (those
// wake-ups, not the media work, were most of a call's CPU; see
// docs/PERFORMANCE.md). The kernel stamps each datagram's arrival (SO_TIMESTAMPNS), so
// the jitter estimate and the latency figure see when it really came.
// Its sendto and recvmsg never block, so they are raw system calls: a
// scheduler-aware one (syscall.Syscall) wakes Go's sysmon thread on its
// way out, which then polls every 20 µs for a while, each frame.
// Used by one goroutine at a time.
type rtpSocket struct {
	fd      int
	family  int // AF_INET or AF_INET6
	local   netip.AddrPort
	cleanup runtime.Cleanup // closes fd if the socket is dropped unclosed, as net's sockets do

	// Receive scratch, reused so a packet costs no allocation.
	name syscall.RawSockaddrInet6 // big enough for either family
	oob  [64]byte
	iov  syscall.Iovec
	msg  syscall.Msghdr

	// The last destination's socket address, made once per remote.
	to    netip.AddrPort
	sa4   syscall.RawSockaddrInet4
	sa6   syscall.RawSockaddrInet6
	sa    unsafe.Pointer // &sa4 or &sa6, nil before the first send
	saLen uintptr
}

// errWouldBlock says the socket holds no datagram now.
const errWouldBlock = syscall.EAGAIN

func bindRTP(ip netip.Addr, lo, hi int) (*rtpSocket, error) {
	return bindPort(ip.Unmap(), lo, hi, bindRTPPort)
}

func bindRTPPort(ip netip.Addr, port uint16) (*rtpSocket, error) {
	s := &rtpSocket{family: syscall.AF_INET6}
	var sa syscall.Sockaddr
	if ip.Is4() {
		s.family = syscall.AF_INET
		sa = &syscall.SockaddrInet4{Port: int(port), Addr: ip.As4()}
	} else {
		sa = &syscall.SockaddrInet6{Port: int(port), Addr: ip.As16(), ZoneId: zoneID(ip)}
	}
	fd, err := syscall.Socket(s.family, syscall.SOCK_DGRAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_UDP)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	s.fd = fd
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("SO_TIMESTAMPNS: %w", err)
	}
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("bind %s: %w", netip.AddrPortFrom(ip, port), err)
	}
	got, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("getsockname: %w", err)
	}
	switch a := got.(type) {
	case *syscall.SockaddrInet4:
		s.local = netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *syscall.SockaddrInet6:
		s.local = netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port))
	}
	s.cleanup = runtime.AddCleanup(s, func(fd int) { syscall.Close(fd) }, fd)
	return s, nil
}

func zoneID(ip netip.Addr) uint32 {
	if ip.Zone() == "" {
		return 0
	}
	ifi, err := net.InterfaceByName(ip.Zone())
	if err != nil {
		return 0
	}
	return uint32(ifi.Index)
}

func (s *rtpSocket) localAddr() netip.AddrPort { return s.local }

// close frees the port; called once.
func (s *rtpSocket) close() error {
	s.cleanup.Stop()
	return syscall.Close(s.fd)
}

// send writes one datagram to to; it never blocks (a full send buffer is
// an error, the packet lost, as it would be on the wire).
func (s *rtpSocket) send(b []byte, to netip.AddrPort) error {
	if to != s.to || s.sa == nil {
		if err := s.setDest(to); err != nil {
			return err
		}
	}
	if len(b) == 0 {
		return errors.New("media: empty datagram")
	}
	for {
		_, _, errno := syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(s.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
			syscall.MSG_DONTWAIT, uintptr(s.sa), s.saLen)
		switch errno {
		case 0:
			return nil
		case syscall.EINTR:
			continue
		}
		return errno
	}
}

func (s *rtpSocket) setDest(to netip.AddrPort) error {
	a := to.Addr()
	port := [2]byte{byte(to.Port() >> 8), byte(to.Port())} // network order
	switch {
	case s.family == syscall.AF_INET && a.Unmap().Is4():
		s.sa4 = syscall.RawSockaddrInet4{Family: syscall.AF_INET, Addr: a.Unmap().As4()}
		*(*[2]byte)(unsafe.Pointer(&s.sa4.Port)) = port
		s.sa, s.saLen = unsafe.Pointer(&s.sa4), unsafe.Sizeof(s.sa4)
	case s.family == syscall.AF_INET6:
		// An IPv4 peer is reached from an IPv6 socket by its mapped address.
		s.sa6 = syscall.RawSockaddrInet6{Family: syscall.AF_INET6, Addr: a.As16(), Scope_id: zoneID(a)}
		*(*[2]byte)(unsafe.Pointer(&s.sa6.Port)) = port
		s.sa, s.saLen = unsafe.Pointer(&s.sa6), unsafe.Sizeof(s.sa6)
	default:
		s.sa = nil
		return fmt.Errorf("media: an IPv4 RTP socket cannot reach %s", to)
	}
	s.to = to
	return nil
}

// recv reads one datagram into b without waiting: errWouldBlock when none
// is queued. at is when the kernel received it.
func (s *rtpSocket) recv(b []byte) (n int, from netip.AddrPort, at time.Time, err error) {
	if len(b) == 0 {
		return 0, from, at, errors.New("media: empty receive buffer")
	}
	s.iov.Base = &b[0]
	s.iov.SetLen(len(b))
	s.msg = syscall.Msghdr{
		Name:    (*byte)(unsafe.Pointer(&s.name)),
		Namelen: uint32(unsafe.Sizeof(s.name)),
		Iov:     &s.iov,
		Control: &s.oob[0],
	}
	s.msg.Iovlen = 1
	s.msg.SetControllen(len(s.oob))
	for {
		r, _, errno := syscall.RawSyscall(syscall.SYS_RECVMSG, uintptr(s.fd), uintptr(unsafe.Pointer(&s.msg)), syscall.MSG_DONTWAIT)
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return 0, from, at, errno
		}
		n = int(r)
		break
	}
	now := time.Now()
	return n, s.source(), s.arrival(now), nil
}

// source decodes the sender's address recvmsg left in s.name.
func (s *rtpSocket) source() netip.AddrPort {
	switch s.name.Family {
	case syscall.AF_INET:
		sa := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&s.name))
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(p[0])<<8|uint16(p[1]))
	case syscall.AF_INET6:
		p := (*[2]byte)(unsafe.Pointer(&s.name.Port))
		return netip.AddrPortFrom(netip.AddrFrom16(s.name.Addr).Unmap(), uint16(p[0])<<8|uint16(p[1]))
	}
	return netip.AddrPort{}
}

// arrival is the kernel's receive time from the SCM_TIMESTAMPNS control
// message, moved onto now's monotonic clock (a wall clock step during a
// call must not show as jitter); now when there is none.
func (s *rtpSocket) arrival(now time.Time) time.Time {
	oob := s.oob[:s.msg.Controllen]
	hdr := syscall.CmsgLen(0)
	for len(oob) >= hdr {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdr || l > len(oob) {
			break
		}
		if h.Level == syscall.SOL_SOCKET && h.Type == syscall.SCM_TIMESTAMPNS && l-hdr >= int(unsafe.Sizeof(syscall.Timespec{})) {
			ts := (*syscall.Timespec)(unsafe.Pointer(&oob[hdr]))
			ago := now.Sub(time.Unix(int64(ts.Sec), int64(ts.Nsec)))
			if ago < 0 || ago > time.Second {
				return now // the wall clock moved between the two readings
			}
			return now.Add(-ago)
		}
		next := syscall.CmsgSpace(l - hdr)
		if next > len(oob) {
			break
		}
		oob = oob[next:]
	}
	return now
}
