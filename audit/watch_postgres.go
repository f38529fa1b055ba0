package audit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// EventsChannel is the channel PostgreSQL notifies when events are
// appended (schema_postgres.go, step 2): the payload is the new head's
// number, in decimal, and nothing else.
const EventsChannel = "nhi_events"

// WatchReconnectDelay is how long WatchEvents waits before it connects
// again after the listening connection failed or was lost.
var WatchReconnectDelay = 2 * time.Second

// LogNotice is what WatchEvents says about the log.
type LogNotice struct {
	// Head is the number of the newest event when the notice was sent;
	// 0 when it is not known (the connection was made or made again, and
	// events may have been appended meanwhile): read LogHead.
	Head int64
	// Lost says the listening connection failed or was lost: no notice
	// comes until it is back (a notice with Lost false), so look at the
	// log's head some other way (poll) meanwhile.
	Lost bool
}

// WatchGap is how long WatchEvents stops listening after a notice, and
// the least time a receiver should leave between two notices it takes
// (the TUI's, tui/watch.go): what is appended meanwhile is learned from
// the log's head when the gap ends, one notice however many appends.
const WatchGap = 250 * time.Millisecond

// WatchEvents tells, while ctx lasts and the store is open, when other
// connections append to the log: on PostgreSQL, through LISTEN on a
// connection of its own (EventsChannel, docs/team.md "Live"); on an
// evidence file it returns an error wrapping errors.ErrUnsupported, and
// the caller polls LogHead. The first notice says the connection is
// listening (Head 0). After each notification it stops listening for
// WatchGap, then reads the log's head on that connection and sends it
// if it moved (waiting another gap), or listens again: a busy log costs
// the server a few round trips a gap for each watch, not a wake-up of
// its backend for every append. A lost connection is made again every
// WatchReconnectDelay, saying Lost meanwhile. Notices the receiver has
// not taken yet are merged into one (the newest head, or 0 when one of
// them did not know it), so a burst of appends never queues up: the
// channel holds at most one notice, and nothing here waits for the
// receiver.
func (s *Store) WatchEvents(ctx context.Context) (<-chan LogNotice, error) {
	w, err := s.watch(ctx, WatchGap)
	if err != nil {
		return nil, err
	}
	return w.ch, nil
}

// watch is WatchEvents' listener. It is a loop of its own on a pgx.Conn,
// not a pgxlisten.Listener: that listens on a channel for as long as its
// connection lasts, and a handler that stopped and started listening
// through the connection it is handed would run a loop of its own inside
// it, whose failed LISTEN would leave a connection up and deaf.
type watch struct {
	notifier
	cfg *pgx.ConnConfig
	gap time.Duration
	// received counts the notifications the connection brought: each is
	// a wake-up of the server's backend and of this process.
	received atomic.Int64
}

func (s *Store) watch(ctx context.Context, gap time.Duration) (*watch, error) {
	if s.engine != enginePostgres || s.pgConfig == nil {
		return nil, fmt.Errorf("%s is an evidence file: nothing notifies its writes, poll its log head: %w", s.path, errors.ErrUnsupported)
	}
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-s.closed:
		case <-ctx.Done():
		}
		cancel()
	}()
	cfg := s.pgConfig.Copy()
	cfg.RuntimeParams["application_name"] = WatchApplication
	w := &watch{notifier: notifier{ch: make(chan LogNotice, 1)}, cfg: cfg, gap: gap}
	// Read once, here: the goroutine may outlive a caller that sets the
	// delay for a while and puts it back (the tests).
	reconnect := WatchReconnectDelay
	go func() {
		defer close(w.ch)
		for {
			_ = w.listen(ctx) // returns when the connection failed or ctx ended
			if ctx.Err() != nil {
				return
			}
			w.send(LogNotice{Lost: true})
			select {
			case <-ctx.Done():
				return
			case <-time.After(reconnect):
			}
		}
	}()
	return w, nil
}

// Statements of the watch's connection.
var (
	listenSQL   = "LISTEN " + pgx.Identifier{EventsChannel}.Sanitize()
	unlistenSQL = "UNLISTEN " + pgx.Identifier{EventsChannel}.Sanitize()
)

const headSQL = `SELECT coalesce(max(seq), 0) FROM events`

// listen connects, listens, and sends notices until the connection
// fails or ctx ends.
func (w *watch) listen(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, w.cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background()) // ctx may have ended
	if _, err := conn.Exec(ctx, listenSQL); err != nil {
		return err
	}
	w.send(LogNotice{}) // what came before is unknown: the receiver reads the head
	var last int64      // the newest head sent on this connection
	for {
		msg, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		w.received.Add(1)
		seq, err := strconv.ParseInt(msg.Payload, 10, 64)
		if err != nil || seq < 1 {
			seq = 0 // not nhi's trigger: the head is unknown, read it
		} else if seq <= last {
			continue // came before the UNLISTEN: the head read since holds it
		}
		// Stop listening before the notice goes: once the receiver has
		// it, the server wakes this connection no more for a gap.
		_, err = conn.Exec(ctx, unlistenSQL)
		w.send(LogNotice{Head: seq})
		last = max(last, seq)
		if err != nil {
			return err
		}
		if last, err = w.quiet(ctx, conn, last); err != nil {
			return err
		}
	}
}

// quiet waits out a gap, not listening, and reads the log's head: when
// it moved it sends it and waits another gap; when not, it listens again
// and returns the newest head sent. The head is read again once the
// LISTEN has committed: an append committed after that read is notified,
// one before it is in the head (LISTEN's documented order).
func (w *watch) quiet(ctx context.Context, conn *pgx.Conn, last int64) (int64, error) {
	for {
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(w.gap):
		}
		var head int64
		if err := conn.QueryRow(ctx, headSQL).Scan(&head); err != nil {
			return last, err
		}
		if head > last {
			w.send(LogNotice{Head: head})
			last = head
			continue
		}
		if _, err := conn.Exec(ctx, listenSQL); err != nil {
			return last, err
		}
		if err := conn.QueryRow(ctx, headSQL).Scan(&head); err != nil {
			return last, err
		}
		if head <= last {
			return last, nil
		}
		_, err := conn.Exec(ctx, unlistenSQL)
		w.send(LogNotice{Head: head})
		last = head
		if err != nil {
			return last, err
		}
	}
}

// WatchApplication is the application_name of WatchEvents' connection,
// as pg_stat_activity shows it.
const WatchApplication = "nhi watch"

// notifier turns notifications into LogNotices on a channel of one.
type notifier struct {
	ch chan LogNotice
}

// send puts notice on the channel, merged with one the receiver has not
// taken. Only the listener's goroutine sends, so once the old notice is
// taken out there is room.
func (n *notifier) send(notice LogNotice) {
	select {
	case n.ch <- notice:
		return
	default:
	}
	select {
	case old := <-n.ch:
		if old.Head == 0 || notice.Head == 0 {
			notice.Head = 0
		} else {
			notice.Head = max(old.Head, notice.Head)
		}
	default: // taken meanwhile
	}
	n.ch <- notice
}
