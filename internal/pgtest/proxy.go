package pgtest

import (
	"bytes"
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy forwards TCP connections on loopback to the server, and cuts
// one when told to: for tests of a connection lost in the middle of a
// write, as a network, a proxy or a server's failover loses one. What it
// forwards it forwards unchanged and at once.
type Proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	armed  *Cut
	refuse bool
	conns  map[net.Conn]bool
}

// When a connection is cut, relative to the request that arms it.
type When int

const (
	// BeforeSending drops the request and cuts the connection: the
	// server never sees it.
	BeforeSending When = iota
	// AfterAnswer forwards the request, lets the server answer it (up
	// to its ReadyForQuery: the whole pipeline run, a COMMIT in it
	// committed) and cuts the connection without forwarding the answer:
	// the client cannot know what the server did.
	AfterAnswer
)

// Cut is one armed cut: Done is closed once it has happened.
type Cut struct {
	marker []byte
	when   When
	refuse bool // then Refuse(true): the server out of reach
	Done   chan struct{}
}

// NewProxy starts a proxy to the server of u (a URL from TCPURL), stopped
// when the test ends, and returns it and u through it.
func NewProxy(t testing.TB, u string) (*Proxy, string) {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: pu.Host, conns: map[net.Conn]bool{}}
	go p.accept()
	t.Cleanup(p.close)
	pu.Host = ln.Addr().String()
	return p, pu.String()
}

// CutNext arms a cut of the next connection whose client sends a
// request holding marker (a statement's text, as sent), cut as when
// says. One cut at a time: arming again replaces the cut not yet made.
func (p *Proxy) CutNext(marker string, when When) *Cut {
	c := &Cut{marker: []byte(marker), when: when, Done: make(chan struct{})}
	p.mu.Lock()
	p.armed = c
	p.mu.Unlock()
	return c
}

// Refuse has the proxy close every new connection at once (on), as a
// server that is down or unreachable refuses it, or forward them again
// (off).
func (p *Proxy) Refuse(on bool) {
	p.mu.Lock()
	p.refuse = on
	p.mu.Unlock()
}

// CutNextThenRefuse is CutNext, the proxy refusing every new connection
// from the moment of the cut (Refuse) until told otherwise: the server
// out of reach when the client connects again.
func (p *Proxy) CutNextThenRefuse(marker string, when When) *Cut {
	c := p.CutNext(marker, when)
	p.mu.Lock()
	c.refuse = true
	p.mu.Unlock()
	return c
}

// cut makes c: the proxy refuses from now on if c says so, Done is
// closed, then the connection.
func (p *Proxy) cut(c *Cut, closeBoth func()) {
	if c.refuse {
		p.Refuse(true)
	}
	close(c.Done)
	closeBoth()
}

// take is the armed cut if chunk holds its marker, disarmed.
func (p *Proxy) take(chunk []byte) *Cut {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.armed; c != nil && bytes.Contains(chunk, c.marker) {
		p.armed = nil
		return c
	}
	return nil
}

func (p *Proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *Proxy) track(c net.Conn, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.conns[c] = true
	} else {
		delete(p.conns, c)
	}
}

func (p *Proxy) serve(client net.Conn) {
	p.mu.Lock()
	refuse := p.refuse
	p.mu.Unlock()
	if refuse {
		client.Close()
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	p.track(client, true)
	p.track(server, true)
	var once sync.Once
	closeBoth := func() {
		once.Do(func() {
			client.Close()
			server.Close()
			p.track(client, false)
			p.track(server, false)
		})
	}
	defer closeBoth()
	cutting := make(chan *Cut, 1)
	go func() {
		defer closeBoth()
		buf := make([]byte, 64<<10)
		for {
			n, err := client.Read(buf)
			if n > 0 {
				if c := p.take(buf[:n]); c != nil {
					if c.when == BeforeSending {
						p.cut(c, closeBoth)
						return
					}
					cutting <- c // before the request goes: its answer is not forwarded
				}
				if _, werr := server.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 64<<10)
	var (
		cut  *Cut
		held []byte
	)
	for {
		n, err := server.Read(buf)
		if n > 0 {
			if cut == nil {
				select {
				case cut = <-cutting:
				default:
				}
			}
			if cut != nil {
				// Held back until the server has answered the whole
				// request: its last message is ReadyForQuery
				// ('Z', length 5, the transaction's status).
				held = append(held, buf[:n]...)
				if k := len(held); k >= 6 && bytes.Equal(held[k-6:k-1], []byte{'Z', 0, 0, 0, 5}) {
					p.cut(cut, closeBoth)
					return
				}
				continue
			}
			if _, werr := client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
