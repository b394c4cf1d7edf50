// franz-client: produce N records with franz-go (library defaults: idempotent
// producer, snappy batch compression, sticky key partitioner), then read them all
// back by consuming every partition directly from the start (no group), and check
// each record: partition and offset as acknowledged, key, value, headers, order,
// nothing missing or duplicated. Topic creation and offset listing go through kadm.
//
// Usage: franz-client --bootstrap host:port [--topic T] [--records N]
//
//	[--partitions P] [--value-size B] [--compression default|none|gzip|snappy|lz4|zstd]
//	[--timeout 120s]
//
// Prints JSON lines on stdout; the last is {"ok":true,...}. Exits 1 on failure.
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

var (
	bootstrap   = flag.String("bootstrap", "", "broker host:port (required)")
	topic       = flag.String("topic", fmt.Sprintf("franz-%d", time.Now().UnixMilli()), "topic")
	records     = flag.Int("records", 50000, "records to produce")
	partitions  = flag.Int("partitions", 4, "partitions of the topic")
	valueSize   = flag.Int("value-size", 500, "value size in bytes (>= 8)")
	compression = flag.String("compression", "default", "producer compression (default = library default)")
	timeout     = flag.Duration("timeout", 120*time.Second, "overall deadline")
)

func emit(v map[string]any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

func fail(err error) {
	emit(map[string]any{"ok": false, "error": err.Error()})
	fmt.Fprintln(os.Stderr, "franz-client:", err)
	os.Exit(1)
}

func key(i int) []byte {
	if i%13 == 0 {
		return nil
	}
	return []byte("key-" + strconv.Itoa(i))
}

func value(i int) []byte {
	b := make([]byte, *valueSize)
	binary.BigEndian.PutUint64(b, uint64(i))
	x := uint64(i+1) * 0x9E3779B97F4A7C15
	for p := 8; p < len(b); p++ {
		if (p-8)&7 == 0 {
			x += 0x9E3779B97F4A7C15
			z := x
			z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
			z = (z ^ (z >> 27)) * 0x94D049BB133111EB
			x = z ^ (z >> 31)
		}
		b[p] = byte(x >> (((p - 8) & 7) * 8))
	}
	return b
}

func headers(i int) []kgo.RecordHeader {
	if i%7 != 0 {
		return nil
	}
	return []kgo.RecordHeader{
		{Key: "seq", Value: []byte(strconv.Itoa(i))},
		{Key: "origin", Value: []byte("bunka-franz-test")},
	}
}

func codec(name string) (kgo.Opt, error) {
	var c kgo.CompressionCodec
	switch name {
	case "default":
		return nil, nil
	case "none":
		c = kgo.NoCompression()
	case "gzip":
		c = kgo.GzipCompression()
	case "snappy":
		c = kgo.SnappyCompression()
	case "lz4":
		c = kgo.Lz4Compression()
	case "zstd":
		c = kgo.ZstdCompression()
	default:
		return nil, fmt.Errorf("unknown compression %q", name)
	}
	return kgo.ProducerBatchCompression(c), nil
}

type loc struct {
	partition int32
	offset    int64
}

func main() {
	flag.Parse()
	if *bootstrap == "" {
		fail(errors.New("--bootstrap host:port is required"))
	}
	if *valueSize < 8 {
		fail(errors.New("--value-size must be >= 8"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	start := time.Now()

	// ---- admin: create the topic, wait for leaders
	adm, err := kgo.NewClient(kgo.SeedBrokers(*bootstrap))
	if err != nil {
		fail(err)
	}
	defer adm.Close()
	admin := kadm.NewClient(adm)
	resp, err := admin.CreateTopic(ctx, int32(*partitions), 1, nil, *topic)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		fail(fmt.Errorf("create topic: %w", err))
	}
	if err == nil && resp.Err != nil && !errors.Is(resp.Err, kerr.TopicAlreadyExists) {
		fail(fmt.Errorf("create topic: %w", resp.Err))
	}
	for {
		md, err := admin.Metadata(ctx, *topic)
		if err == nil {
			td, ok := md.Topics[*topic]
			if ok && td.Err == nil && len(td.Partitions) == *partitions {
				led := true
				for _, p := range td.Partitions {
					if p.Err != nil || p.Leader < 0 {
						led = false
					}
				}
				if led {
					break
				}
			}
		}
		if ctx.Err() != nil {
			fail(fmt.Errorf("topic %s not ready: %v", *topic, err))
		}
		time.Sleep(100 * time.Millisecond)
	}
	tTopic := time.Now()
	emit(map[string]any{"event": "topicReady", "topic": *topic, "partitions": *partitions})

	// ---- produce
	opts := []kgo.Opt{kgo.SeedBrokers(*bootstrap), kgo.DefaultProduceTopic(*topic)}
	if o, err := codec(*compression); err != nil {
		fail(err)
	} else if o != nil {
		opts = append(opts, o)
	}
	prod, err := kgo.NewClient(opts...)
	if err != nil {
		fail(err)
	}
	locs := make([]loc, *records)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for i := 0; i < *records; i++ {
		seq := i
		wg.Add(1)
		prod.Produce(ctx, &kgo.Record{Key: key(i), Value: value(i), Headers: headers(i)}, func(r *kgo.Record, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("record %d: %w", seq, err)
				}
				return
			}
			locs[seq] = loc{r.Partition, r.Offset}
		})
	}
	wg.Wait()
	prod.Close()
	if firstErr != nil {
		fail(fmt.Errorf("produce: %w", firstErr))
	}
	tProduced := time.Now()
	perPartition := make([]int, *partitions)
	expected := make(map[loc]int, *records)
	for i, l := range locs {
		if int(l.partition) >= *partitions || l.partition < 0 {
			fail(fmt.Errorf("record %d acked in partition %d", i, l.partition))
		}
		perPartition[l.partition]++
		if prev, dup := expected[l]; dup {
			fail(fmt.Errorf("records %d and %d both acked at %d@%d", prev, i, l.partition, l.offset))
		}
		expected[l] = i
	}
	emit(map[string]any{"event": "produced", "count": *records, "perPartition": perPartition, "ms": tProduced.Sub(tTopic).Milliseconds()})

	// ---- offsets via kadm: end - start == acked per partition
	starts, err := admin.ListStartOffsets(ctx, *topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		fail(fmt.Errorf("list start offsets: %w", err))
	}
	ends, err := admin.ListEndOffsets(ctx, *topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		fail(fmt.Errorf("list end offsets: %w", err))
	}
	for p := 0; p < *partitions; p++ {
		s, ok1 := starts.Lookup(*topic, int32(p))
		e, ok2 := ends.Lookup(*topic, int32(p))
		if !ok1 || !ok2 {
			fail(fmt.Errorf("no offsets for partition %d", p))
		}
		if int(e.Offset-s.Offset) != perPartition[p] {
			fail(fmt.Errorf("partition %d: offsets %d..%d but %d records acked", p, s.Offset, e.Offset, perPartition[p]))
		}
	}

	// ---- consume every partition from the start, no group
	assign := map[int32]kgo.Offset{}
	for p := 0; p < *partitions; p++ {
		assign[int32(p)] = kgo.NewOffset().AtStart()
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(*bootstrap), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{*topic: assign}))
	if err != nil {
		fail(err)
	}
	defer cons.Close()
	seen := make([]bool, *records)
	last := make([]int64, *partitions)
	for i := range last {
		last[i] = -1
	}
	consumed := 0
	for consumed < *records {
		fetches := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			fail(fmt.Errorf("timed out after consuming %d of %d", consumed, *records))
		}
		var ferr error
		fetches.EachError(func(t string, p int32, err error) {
			if ferr == nil {
				ferr = fmt.Errorf("fetch %s[%d]: %w", t, p, err)
			}
		})
		if ferr != nil {
			fail(ferr)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if ferr != nil {
				return
			}
			ferr = check(r, expected, seen, last)
			consumed++
		})
		if ferr != nil {
			fail(ferr)
		}
	}
	tConsumed := time.Now()
	emit(map[string]any{"event": "consumed", "count": consumed, "ms": tConsumed.Sub(tProduced).Milliseconds()})
	emit(map[string]any{
		"ok": true, "topic": *topic, "produced": *records, "consumed": consumed, "partitions": *partitions,
		"produceMs": tProduced.Sub(tTopic).Milliseconds(), "consumeMs": tConsumed.Sub(tProduced).Milliseconds(),
		"elapsedMs": tConsumed.Sub(start).Milliseconds(),
	})
}

func check(r *kgo.Record, expected map[loc]int, seen []bool, last []int64) error {
	p := r.Partition
	if int(p) >= len(last) {
		return fmt.Errorf("record from unknown partition %d", p)
	}
	if r.Offset <= last[p] {
		return fmt.Errorf("partition %d: offset %d after %d", p, r.Offset, last[p])
	}
	last[p] = r.Offset
	seq, ok := expected[loc{p, r.Offset}]
	if !ok {
		return fmt.Errorf("unexpected record at %d@%d", p, r.Offset)
	}
	if seen[seq] {
		return fmt.Errorf("record %d consumed twice", seq)
	}
	seen[seq] = true
	if !bytes.Equal(r.Key, key(seq)) || (r.Key == nil) != (key(seq) == nil) {
		return fmt.Errorf("record %d: key %q", seq, r.Key)
	}
	if !bytes.Equal(r.Value, value(seq)) {
		return fmt.Errorf("record %d: value mismatch", seq)
	}
	want := headers(seq)
	if len(r.Headers) != len(want) {
		return fmt.Errorf("record %d: %d headers, want %d", seq, len(r.Headers), len(want))
	}
	for i := range want {
		if r.Headers[i].Key != want[i].Key || !bytes.Equal(r.Headers[i].Value, want[i].Value) {
			return fmt.Errorf("record %d: header %d mismatch", seq, i)
		}
	}
	if r.Timestamp.IsZero() || r.Timestamp.UnixMilli() <= 0 {
		return fmt.Errorf("record %d: timestamp %v", seq, r.Timestamp)
	}
	return nil
}
