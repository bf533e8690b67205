package dev.zdm.handlers;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.engine.Engine;
import dev.zdm.protocol.Dispatcher;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.Request;
import dev.zdm.protocol.ZdmException;
import dev.zdm.recipes.AddConstraint;
import dev.zdm.recipes.CreateTable;
import dev.zdm.recipes.DropColumn;
import dev.zdm.recipes.DropConstraint;
import dev.zdm.recipes.DropDefault;
import dev.zdm.recipes.DropIndex;
import dev.zdm.recipes.DropNotNull;
import dev.zdm.recipes.SetDefault;
import dev.zdm.recipes.SetNotNull;
import dev.zdm.recipes.ValidateConstraint;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Dispatches on body.type to the handler of that type; an unknown type is error 10. */
public final class Handlers implements Dispatcher {

    private final Map<String, Handler> byType = new LinkedHashMap<>();

    public Handlers(List<Handler> handlers) {
        for (Handler handler : handlers) {
            if (byType.put(handler.type(), handler) != null) {
                throw new IllegalArgumentException("two handlers for " + handler.type());
            }
        }
    }

    public static Handlers forEngine(Engine engine, Duration defaultLockBudget) {
        List<Handler> operations = List.of(
                new CreateIndexHandler(engine, defaultLockBudget),
                new AddColumnHandler(engine, defaultLockBudget),
                new MigrateDataHandler(engine, defaultLockBudget),
                new RecipeHandler<>(engine, defaultLockBudget, new DropIndex()),
                new RecipeHandler<>(engine, defaultLockBudget, new SetDefault()),
                new RecipeHandler<>(engine, defaultLockBudget, new DropDefault()),
                new RecipeHandler<>(engine, defaultLockBudget, new DropNotNull()),
                new RecipeHandler<>(engine, defaultLockBudget, new ValidateConstraint()),
                new RecipeHandler<>(engine, defaultLockBudget, new AddConstraint()),
                new RecipeHandler<>(engine, defaultLockBudget, new SetNotNull()),
                new RecipeHandler<>(engine, defaultLockBudget, new DropConstraint()),
                new RecipeHandler<>(engine, defaultLockBudget, new DropColumn()),
                new RecipeHandler<>(engine, defaultLockBudget, new CreateTable()));
        List<Handler> all = new ArrayList<>(operations);
        all.add(new TransactionHandlers.Open(engine));
        all.add(new TransactionHandlers.Close(engine));
        all.add(new MigrationHandler(engine, operations));
        all.add(new StatusHandler(engine));
        return new Handlers(all);
    }

    @Override
    public ObjectNode handle(Request request) {
        Handler handler = byType.get(request.type());
        if (handler == null) {
            throw new ZdmException(ErrorCode.NOT_SUPPORTED, "unknown message type '" + request.type()
                    + "'; known: init, " + String.join(", ", byType.keySet()));
        }
        request.onlyFields(handler.fields());
        return handler.handle(request);
    }
}
