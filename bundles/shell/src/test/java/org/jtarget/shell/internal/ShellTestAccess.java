package org.jtarget.shell.internal;

import org.apache.felix.gogo.runtime.CommandProcessorImpl;

/** Lets tests of other packages run the shell's commands in a real Gogo runtime over a fake TargetService. */
public final class ShellTestAccess implements AutoCloseable {
    private final FakeTargetService service = new FakeTargetService();
    private final GogoShell shell = new GogoShell(service);

    public CommandProcessorImpl processor() {
        return shell.processor;
    }

    @Override
    public void close() {
        shell.close();
    }
}
