package audit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgxlisten"
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

// WatchEvents tells, while ctx lasts and the store is open, when other
// connections append to the log: on PostgreSQL, through LISTEN on a
// connection of its own (EventsChannel, docs/team.md "Live"); on an
// evidence file it returns an error wrapping errors.ErrUnsupported, and
// the caller polls LogHead. The first notice says the connection is
// listening (Head 0). A lost connection is made again every
// WatchReconnectDelay, saying Lost meanwhile. Notices the receiver has
// not taken yet are merged into one (the newest head, or 0 when one of
// them did not know it), so a burst of appends never queues up: the
// channel holds at most one notice, and nothing here waits for the
// receiver.
func (s *Store) WatchEvents(ctx context.Context) (<-chan LogNotice, error) {
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
	n := &notifier{ch: make(chan LogNotice, 1)}
	l := &pgxlisten.Listener{
		Connect: func(ctx context.Context) (*pgx.Conn, error) {
			cfg := s.pgConfig.Copy()
			cfg.RuntimeParams["application_name"] = WatchApplication
			return pgx.ConnectConfig(ctx, cfg)
		},
		// Listen calls it when the connection could not be made or was
		// lost (the handlers below never fail); not when ctx ended.
		LogError: func(ctx context.Context, _ error) {
			if ctx.Err() == nil {
				n.send(LogNotice{Lost: true})
			}
		},
		ReconnectDelay: WatchReconnectDelay,
	}
	l.Handle(EventsChannel, n)
	go func() {
		_ = l.Listen(ctx) // returns when ctx ends
		close(n.ch)
	}()
	return n.ch, nil
}

// WatchApplication is the application_name of WatchEvents' connection,
// as pg_stat_activity shows it.
const WatchApplication = "nhi watch"

// notifier turns notifications into LogNotices on a channel of one.
type notifier struct {
	ch chan LogNotice
}

// HandleBacklog is called once the connection listens: what was appended
// before is unknown to the receiver, who reads the head.
func (n *notifier) HandleBacklog(context.Context, string, *pgx.Conn) error {
	n.send(LogNotice{})
	return nil
}

func (n *notifier) HandleNotification(_ context.Context, msg *pgconn.Notification, _ *pgx.Conn) error {
	seq, err := strconv.ParseInt(msg.Payload, 10, 64)
	if err != nil || seq < 1 {
		seq = 0 // not nhi's trigger: the head is unknown, read it
	}
	n.send(LogNotice{Head: seq})
	return nil
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
