namespace AbilisFast.Fuzz;

/// <summary>
/// Thrown by the harness when the code under test broke one of the harness's checks (a malformed
/// reply, a stored message that was never written, a session that did not end). Like any other
/// exception that escapes a target, afl-fuzz records it as a crash.
/// </summary>
internal sealed class FuzzInvariantException(string message) : Exception(message);
