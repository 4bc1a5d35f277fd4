"""The broker clients checksum record batches in C.

kafka-python computes (producer) and checks (consumer, ``check_crcs``) every record batch's CRC-32C. It
uses the ``crc32c`` extension when that package is installed and otherwise a pure-Python loop that
manages about 10 MB/s: for the relay and the projector that was seconds of CPU for every hundred
thousand events, on every message they publish or read.
"""

from __future__ import annotations

import crc32c
from kafka.record import util
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder


def test_kafka_python_uses_the_c_checksum() -> None:
    assert util.calc_crc32c.__defaults__ == (crc32c.crc32c,)


def test_a_batch_built_and_read_back_checks_out() -> None:
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False, producer_id=-1,
                                        producer_epoch=-1, base_sequence=-1, batch_size=1 << 20)
    for offset in range(3):
        builder.append(offset, timestamp=None, key=b"trust-a", value=b'{"sequence": %d}' % offset, headers=[])
    batch = DefaultRecordBatch(bytes(builder.build()))
    assert batch.validate_crc()
    assert [record.value for record in batch] == [b'{"sequence": %d}' % n for n in range(3)]
