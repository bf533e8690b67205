package dev.zdm.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ContainerNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;

/**
 * Reads a stream of JSON values from bytes, so an envelope written over several lines is read whole and
 * several on one line are each read. Jackson's non-blocking parser is fed one line (or one bounded piece
 * of a long line) at a time, which lets it notice a syntax error at the token where it happens, and
 * answers a value the moment its last byte arrives (the harness waits for each reply).
 *
 * <p>What it holds is bounded whatever comes in: the pieces of the value being read (at most
 * {@link #MAX_ENVELOPE_BYTES} plus one piece) and the tree built from them. A value that grows past the
 * cap is given up: what could be read of its src and msg_id is reported, and the rest of its line is
 * skipped without being kept. A malformed value is given up too, and reading resumes at the line after
 * the one it began on, so a good envelope that follows a broken one on the next line is still read.
 *
 * <p>A key twice in one object, at any depth, is not JSON a sender can mean one way: the value is read
 * whole (the first of the two kept) and reported as {@link Listener#duplicateKey}, never as an envelope,
 * so the node can answer error 12 to its sender.
 */
public final class EnvelopeReader {

    /** The largest envelope read: far above any real request, far below what would strain the heap. */
    public static final int MAX_ENVELOPE_BYTES = 1 << 20;
    private static final int PIECE_BYTES = 64 * 1024;
    private static final JsonFactory FACTORY = new JsonFactory();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** What the reader found; each call is one value or one thing skipped. */
    public interface Listener {
        void envelope(JsonNode value);

        /** A value over the cap; src, dest and msgId as far as they had been read (null where not). */
        void oversized(String src, String dest, JsonNode msgId, long bytesRead);

        /** Input that is not JSON; {@code excerpt} is its beginning, for the log. */
        void malformed(String problem, String excerpt);

        /** A value read whole with a key twice in one object; {@code path} names the first such key (body.set.n). */
        default void duplicateKey(JsonNode value, String path) {
            malformed("duplicate key " + path, value.toString());
        }
    }

    /** A line, or a piece of one; {@code endsLine} when it ends with its newline. */
    private record Piece(byte[] bytes, boolean endsLine) {
    }

    private final InputStream in;
    private final Listener listener;
    private final byte[] buffer = new byte[PIECE_BYTES];
    private int pos;
    private int limit;
    /** Pieces to feed before reading more: the lines after a broken value's first line. */
    private final Deque<Piece> replay = new ArrayDeque<>();
    /** The pieces fed since the value being read began (the first is the line it began on). */
    private final List<Piece> current = new ArrayList<>();
    private long currentBytes;
    private long maxHeldBytes;

    private JsonParser parser;
    private final Deque<ContainerNode<?>> open = new ArrayDeque<>();
    /** Each open container's key in its parent ("" for the root, [i] in an array), for a duplicate's path. */
    private final Deque<String> openNames = new ArrayDeque<>();
    /** The first key found twice in the value being read, or null. */
    private String duplicate;
    private JsonNode root;
    private String fieldName;
    private boolean inValue;
    /** Where the value being read began, in bytes fed to the current parser. */
    private long valueStart;

    public EnvelopeReader(InputStream in, Listener listener) {
        this.in = in;
        this.listener = listener;
    }

    /** Reads to end of input, calling the listener for each value or skipped piece of input. */
    public void run() throws IOException {
        newParser();
        do {
            Piece piece;
            while ((piece = nextPiece()) != null) {
                feed(piece);
            }
            endOfInput();
            // A value broken off by the end of input leaves the lines after its first to read again.
        } while (!replay.isEmpty());
    }

    private void endOfInput() throws IOException {
        ((ByteArrayFeeder) parser.getNonBlockingInputFeeder()).endOfInput();
        try {
            drain();
        } catch (JsonProcessingException e) {
            giveUp(e.getOriginalMessage(), null);
            return;
        }
        if (inValue) {
            giveUp("the input ended inside a JSON value", null);
        }
    }

    /** The most bytes of input held at once so far: what bounds the reader's memory. */
    public long maxHeldBytes() {
        return maxHeldBytes;
    }

    private void feed(Piece piece) throws IOException {
        if (!inValue) {
            current.clear();
            currentBytes = 0;
        }
        current.add(piece);
        currentBytes += piece.bytes.length;
        maxHeldBytes = Math.max(maxHeldBytes, currentBytes);
        ((ByteArrayFeeder) parser.getNonBlockingInputFeeder()).feedInput(piece.bytes, 0, piece.bytes.length);
        try {
            drain();
        } catch (JsonProcessingException e) {
            giveUp(e.getOriginalMessage(), piece);
            return;
        }
        if (inValue && parser.currentLocation().getByteOffset() - valueStart > MAX_ENVELOPE_BYTES) {
            tooLarge(root, parser.currentLocation().getByteOffset() - valueStart);
            resetValue();
            newParser();
            skipRestOfLine(piece);
        } else if (!inValue && piece.endsLine) {
            current.clear();
            currentBytes = 0;
        }
    }

    /** Takes every token the parser can give from what it was fed. */
    private void drain() throws IOException {
        JsonToken token;
        while ((token = parser.nextToken()) != null && token != JsonToken.NOT_AVAILABLE) {
            if (!inValue) {
                inValue = true;
                valueStart = parser.currentTokenLocation().getByteOffset();
                // The value begins in the piece being fed: what came before it on earlier lines is done.
                Piece last = current.get(current.size() - 1);
                current.clear();
                current.add(last);
                currentBytes = last.bytes.length;
            }
            JsonNode completed = take(token);
            if (completed != null) {
                inValue = false;
                root = null;
                long size = parser.currentLocation().getByteOffset() - valueStart;
                String twice = duplicate;
                duplicate = null;
                if (size > MAX_ENVELOPE_BYTES) {
                    // It ended within the piece that took it over the cap: as large, read whole or not.
                    tooLarge(completed, size);
                } else if (twice != null) {
                    listener.duplicateKey(completed, twice);
                } else {
                    listener.envelope(completed);
                }
            }
        }
    }

    /** Adds the token to the tree being built; answers the value when it is complete. */
    private JsonNode take(JsonToken token) throws IOException {
        JsonNode node;
        switch (token) {
            case FIELD_NAME:
                fieldName = parser.currentName();
                return null;
            case START_OBJECT:
                node = NODES.objectNode();
                break;
            case START_ARRAY:
                node = NODES.arrayNode();
                break;
            case END_OBJECT:
            case END_ARRAY: {
                openNames.pop();
                ContainerNode<?> done = open.pop();
                return open.isEmpty() ? done : null;
            }
            case VALUE_STRING:
                node = NODES.textNode(parser.getText());
                break;
            case VALUE_NUMBER_INT:
                node = switch (parser.getNumberType()) {
                    case INT -> NODES.numberNode(parser.getIntValue());
                    case LONG -> NODES.numberNode(parser.getLongValue());
                    default -> NODES.numberNode(parser.getBigIntegerValue());
                };
                break;
            case VALUE_NUMBER_FLOAT:
                node = NODES.numberNode(parser.getDoubleValue());
                break;
            case VALUE_TRUE:
                node = NODES.booleanNode(true);
                break;
            case VALUE_FALSE:
                node = NODES.booleanNode(false);
                break;
            case VALUE_NULL:
                node = NODES.nullNode();
                break;
            default:
                throw new IllegalStateException("unexpected token " + token);
        }
        String name;
        if (open.isEmpty()) {
            root = node;
            name = "";
        } else if (open.peek() instanceof ObjectNode object) {
            name = fieldName;
            if (!object.has(fieldName)) {
                object.set(fieldName, node);
            } else if (duplicate == null) {
                duplicate = path(fieldName);
            }
        } else {
            ArrayNode array = (ArrayNode) open.peek();
            name = "[" + array.size() + "]";
            array.add(node);
        }
        if (node.isContainerNode()) {
            open.push((ContainerNode<?>) node);
            openNames.push(name);
            return null;
        }
        return open.isEmpty() ? node : null;
    }

    /** The key as a path from the root: body.set.n. */
    private String path(String key) {
        StringBuilder path = new StringBuilder();
        var names = openNames.descendingIterator();
        while (names.hasNext()) {
            String name = names.next();
            if (!name.isEmpty()) {
                path.append(path.length() == 0 || name.startsWith("[") ? "" : ".").append(name);
            }
        }
        return path.append(path.length() == 0 ? "" : ".").append(key).toString();
    }

    /**
     * A syntax error: the value is given up and reading starts again at the line after the one it began
     * on; {@code failedIn}, the piece being fed, is replayed with the rest when it was not that line.
     */
    private void giveUp(String problem, Piece failedIn) throws IOException {
        List<Piece> held = new ArrayList<>(current);
        listener.malformed(problem, excerpt(held));
        int firstLineEnd = 0;
        while (firstLineEnd < held.size() && !held.get(firstLineEnd).endsLine) {
            firstLineEnd++;
        }
        List<Piece> rest = firstLineEnd + 1 < held.size() ? held.subList(firstLineEnd + 1, held.size()) : List.of();
        resetValue();
        newParser();
        List<Piece> again = new ArrayList<>(rest);
        again.addAll(replay);
        replay.clear();
        replay.addAll(again);
        if (firstLineEnd >= held.size()) {
            // The first line has not ended yet: skip the rest of it.
            skipRestOfLine(failedIn);
        }
    }

    private void tooLarge(JsonNode value, long bytes) {
        String src = null;
        String dest = null;
        JsonNode msgId = null;
        if (value instanceof ObjectNode envelope) {
            src = textOrNull(envelope.get("src"));
            dest = textOrNull(envelope.get("dest"));
            JsonNode body = envelope.get("body");
            msgId = body instanceof ObjectNode b ? b.get("msg_id") : null;
        }
        listener.oversized(src, dest, msgId, bytes);
    }

    private static String textOrNull(JsonNode node) {
        return node != null && node.isTextual() ? node.textValue() : null;
    }

    private void skipRestOfLine(Piece last) throws IOException {
        if (last != null && last.endsLine) {
            return;
        }
        Piece piece;
        while ((piece = nextPiece()) != null && !piece.endsLine) {
            // dropped unread: only the position in the input matters
        }
    }

    private void resetValue() {
        current.clear();
        currentBytes = 0;
        open.clear();
        openNames.clear();
        duplicate = null;
        root = null;
        fieldName = null;
        inValue = false;
    }

    private void newParser() throws IOException {
        if (parser != null) {
            parser.close();
        }
        parser = FACTORY.createNonBlockingByteArrayParser();
    }

    /** The next line or piece of a long line: replayed pieces first, then the input. */
    private Piece nextPiece() throws IOException {
        if (!replay.isEmpty()) {
            return replay.poll();
        }
        if (pos == limit) {
            limit = in.read(buffer, 0, buffer.length);
            pos = 0;
            if (limit <= 0) {
                limit = 0;
                return null;
            }
        }
        int end = pos;
        while (end < limit && buffer[end] != '\n') {
            end++;
        }
        boolean endsLine = end < limit;
        if (endsLine) {
            end++;
        }
        byte[] bytes = Arrays.copyOfRange(buffer, pos, end);
        pos = end;
        return new Piece(bytes, endsLine);
    }

    private static String excerpt(List<Piece> pieces) {
        if (pieces.isEmpty()) {
            return "";
        }
        byte[] first = pieces.get(0).bytes;
        return new String(first, 0, Math.min(first.length, 200), StandardCharsets.UTF_8).strip();
    }
}
