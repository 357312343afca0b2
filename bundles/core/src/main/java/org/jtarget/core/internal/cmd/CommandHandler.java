package org.jtarget.core.internal.cmd;

import java.util.concurrent.CompletionStage;
import org.jtarget.spi.fabric.ScsiResponse;

/**
 * Executes a parsed command (LIO's cmd->execute_cmd). Runs on the caller's thread; may finish later on
 * a backstore's thread. Failures: throw or complete exceptionally with a
 * {@link org.jtarget.core.internal.sense.ScsiException} or a backstore exception.
 * Ownership of the response's data passes to the caller.
 */
@FunctionalInterface
public interface CommandHandler {
    CompletionStage<ScsiResponse> execute(Command command);
}
