namespace AbilisFast.Server.Spool;

internal enum SpoolRecordType : byte
{
    Data = 1,
    Commit = 2,
    Abort = 3,
    Done = 4,
    Retry = 5,
    SegmentHeader = 6,
}
