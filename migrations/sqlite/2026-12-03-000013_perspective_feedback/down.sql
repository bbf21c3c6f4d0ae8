DROP TABLE perspective_feedback;
