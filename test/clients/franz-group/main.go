// franz-group: a franz-go consumer-group member (kgo.ConsumerGroup with the library's default
// balancer, cooperative-sticky, and autocommit), or a producer that fills the topic first.
//
// Usage:
//
//	franz-group --bootstrap host:port --topic T --produce N [--partitions P]
//	franz-group --bootstrap host:port --topic T --group G [--idle-exit 8s] [--max 90s]
//	            [--autocommit-interval 500ms] [--poll-sleep 0s] [--max-poll 0] [--stop-on-stdin]
//
// Prints JSON lines on stdout, each event with "ts" (epoch ms):
//
//	{"event":"assigned","partitions":[..]} / {"event":"revoked",..} / {"event":"lost",..}
//	{"event":"records","ranges":[[p,first,last,count],..]}   per poll
//	{"event":"commit","offsets":{"p":next,..}}               after each successful (auto)commit
//	{"ok":true,"consumed":N} / {"ok":true,"produced":N}      at exit
//
// A consumer exits after --idle-exit without records since its first assignment, after --max,
// or when a line "stop" arrives on stdin (--stop-on-stdin); it then commits what it consumed and
// leaves the group. Exits 1 on failure.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var (
	bootstrap   = flag.String("bootstrap", "", "broker host:port (required)")
	topic       = flag.String("topic", "", "topic (required)")
	group       = flag.String("group", "", "consumer group (consume mode)")
	produce     = flag.Int("produce", 0, "produce this many records and exit")
	partitions  = flag.Int("partitions", 6, "partitions when creating the topic")
	idleExit    = flag.Duration("idle-exit", 8*time.Second, "exit after this long without records")
	maxTime     = flag.Duration("max", 90*time.Second, "overall deadline")
	acInterval  = flag.Duration("autocommit-interval", 500*time.Millisecond, "autocommit interval")
	pollSleep   = flag.Duration("poll-sleep", 0, "sleep after each non-empty poll")
	maxPoll     = flag.Int("max-poll", 0, "most records per poll (0: all buffered)")
	stopOnStdin = flag.Bool("stop-on-stdin", false, "a line \"stop\" on stdin ends the member cleanly")
)

var out sync.Mutex

func emit(v map[string]any) {
	if _, ok := v["event"]; ok {
		v["ts"] = time.Now().UnixMilli()
	}
	b, _ := json.Marshal(v)
	out.Lock()
	fmt.Println(string(b))
	out.Unlock()
}

func fail(err error) {
	emit(map[string]any{"ok": false, "error": err.Error()})
	fmt.Fprintln(os.Stderr, "franz-group:", err)
	os.Exit(1)
}

func partitionList(m map[string][]int32) []int32 {
	ps := append([]int32{}, m[*topic]...)
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	return ps
}

func main() {
	flag.Parse()
	if *bootstrap == "" || *topic == "" {
		fail(errors.New("--bootstrap and --topic are required"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), *maxTime)
	defer cancel()
	if *produce > 0 {
		runProducer(ctx)
		return
	}
	if *group == "" {
		fail(errors.New("--group or --produce is required"))
	}
	runConsumer(ctx)
}

func runProducer(ctx context.Context) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(*bootstrap), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		fail(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, int32(*partitions), 1, nil, *topic); err != nil && !strings.Contains(err.Error(), "TOPIC_ALREADY_EXISTS") {
		fail(fmt.Errorf("create topic: %w", err))
	}
	var failed atomic.Value
	var wg sync.WaitGroup
	for i := 0; i < *produce; i++ {
		wg.Add(1)
		rec := &kgo.Record{Topic: *topic, Key: []byte("k" + strconv.Itoa(i)), Value: []byte("v" + strconv.Itoa(i))}
		cl.Produce(ctx, rec, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.Store(err)
			}
			wg.Done()
		})
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		fail(fmt.Errorf("produce: %w", err))
	}
	emit(map[string]any{"ok": true, "produced": *produce})
}

func runConsumer(ctx context.Context) {
	var lastActivity atomic.Int64 // 0 until the first assignment
	touch := func() { lastActivity.Store(time.Now().UnixMilli()) }
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(*bootstrap),
		kgo.ConsumerGroup(*group),
		kgo.ConsumeTopics(*topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.AutoCommitInterval(*acInterval),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			touch()
			emit(map[string]any{"event": "assigned", "partitions": partitionList(m)})
		}),
		kgo.OnPartitionsRevoked(func(ctx context.Context, c *kgo.Client, m map[string][]int32) {
			emit(map[string]any{"event": "revoked", "partitions": partitionList(m)})
			// What the default revoke handler of an autocommitting client does: commit what was
			// consumed before giving it up.
			if err := c.CommitUncommittedOffsets(ctx); err != nil {
				emit(map[string]any{"event": "commit-failed", "error": err.Error()})
			}
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			emit(map[string]any{"event": "lost", "partitions": partitionList(m)})
		}),
		kgo.AutoCommitCallback(func(_ *kgo.Client, req *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			if err != nil {
				emit(map[string]any{"event": "commit-failed", "error": err.Error()})
				return
			}
			committed := map[string]int64{}
			for i, t := range resp.Topics {
				for j, p := range t.Partitions {
					if p.ErrorCode == 0 && i < len(req.Topics) && j < len(req.Topics[i].Partitions) {
						committed[strconv.Itoa(int(p.Partition))] = req.Topics[i].Partitions[j].Offset
					}
				}
			}
			if len(committed) > 0 {
				emit(map[string]any{"event": "commit", "offsets": committed})
			}
		}),
	)
	if err != nil {
		fail(err)
	}
	var stop atomic.Bool
	if *stopOnStdin {
		go func() {
			sc := bufio.NewScanner(os.Stdin)
			for sc.Scan() {
				if strings.TrimSpace(sc.Text()) == "stop" {
					break
				}
			}
			stop.Store(true)
		}()
	}
	consumed := 0
	for ctx.Err() == nil && !stop.Load() {
		if la := lastActivity.Load(); la > 0 && time.Since(time.UnixMilli(la)) > *idleExit {
			break
		}
		pollCtx, pollCancel := context.WithTimeout(ctx, 200*time.Millisecond)
		fetches := cl.PollRecords(pollCtx, *maxPoll)
		pollCancel()
		for _, e := range fetches.Errors() {
			if !errors.Is(e.Err, context.DeadlineExceeded) && !errors.Is(e.Err, context.Canceled) {
				emit(map[string]any{"event": "fetch-error", "error": e.Err.Error()})
			}
		}
		type span struct{ first, last, count int64 }
		ranges := map[int32]*span{}
		fetches.EachRecord(func(r *kgo.Record) {
			s := ranges[r.Partition]
			if s == nil {
				s = &span{first: r.Offset}
				ranges[r.Partition] = s
			}
			s.last = r.Offset
			s.count++
			consumed++
		})
		if len(ranges) == 0 {
			continue
		}
		touch()
		ps := make([]int32, 0, len(ranges))
		for p := range ranges {
			ps = append(ps, p)
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
		list := make([][]int64, 0, len(ps))
		for _, p := range ps {
			s := ranges[p]
			list = append(list, []int64{int64(p), s.first, s.last, s.count})
		}
		emit(map[string]any{"event": "records", "ranges": list})
		if *pollSleep > 0 {
			time.Sleep(*pollSleep)
		}
	}
	if stop.Load() {
		emit(map[string]any{"event": "closing"})
	}
	closeCtx, closeCancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer closeCancel()
	if err := cl.CommitUncommittedOffsets(closeCtx); err != nil {
		emit(map[string]any{"event": "commit-failed", "error": err.Error()})
	}
	cl.LeaveGroup()
	cl.Close()
	emit(map[string]any{"ok": true, "consumed": consumed})
}
